/* mailsift - SMTP submission to a smarthost, for the outbound queue.
 *
 * libetpan runs the session (EHLO, STARTTLS, AUTH); TLS is ours (net-tls.c).
 * MAIL/RCPT/DATA are driven one by one, so every recipient gets its own
 * result: libetpan's send helpers stop at the first refused recipient and
 * cannot tell 450 from 550 (see the libetpan notes). */
#pragma once

#include "config.h"

#include <glib.h>

typedef struct _MsSmtp MsSmtp;

/* Connect, EHLO, STARTTLS (as configured), AUTH (when user is set).
 * Errors: MS_ERROR_TEMPORARY (network, 4xx), MS_ERROR_ACCOUNT (refused
 * certificate or login). Transfer full. */
MsSmtp *ms_smtp_connect (const MsSmtpHost *host, GError **error);

/* One transaction: MAIL FROM:<@from> ("" for the null sender), RCPT TO
 * each of @rcpts, DATA @message (LF or CRLF lines; dot-stuffed and sent
 * with CRLF). @codes[i] gets the reply code for rcpts[i] (250 when the
 * message was accepted for it) and @replies[i] the reply text (transfer
 * full). FALSE with @error only when the connection broke: then nothing
 * in @codes is final and every @replies[i] is NULL. */
gboolean ms_smtp_send (MsSmtp *smtp, const char *from, char *const *rcpts, const char *message,
                       gsize len, int *codes, char **replies, GError **error);

/* QUIT (when @quit) and free. */
void ms_smtp_close (MsSmtp *smtp, gboolean quit);
