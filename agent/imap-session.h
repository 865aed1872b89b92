/* mailsift - one IMAP session (libetpan over the network layer, net.h):
 * connect, TLS, greeting, login and logout, shared by the IMAP source
 * (source-imap.c, imap-idle.c) and the APPEND target (deliver-imap.c). */
#pragma once

#include "config.h"
#include "net.h"

#include <libetpan/libetpan.h>

typedef struct {
  const MsAccount *account;
  mailimap *imap;   /* NULL: not connected */
  MsNetOptions net;
} MsImapSession;

/* Connect to @account's server, start TLS as configured, read the
 * greeting, learn the capabilities and log in (password_command or
 * oauth2_token_command). FALSE with @error (MS_ERROR_ACCOUNT for a
 * refused login or certificate); then ms_imap_session_close() it. */
gboolean ms_imap_session_open (MsImapSession *session, const MsAccount *account, GError **error);

/* LOGOUT when @logout (after a good session), else drop the connection
 * (a server that may be gone would be waited for). Safe to repeat. */
void ms_imap_session_close (MsImapSession *session, gboolean logout);

/* Whether the server listed @extension (e.g. "UIDPLUS") among its
 * capabilities. libetpan 1.9.4's mailimap_has_extension() reads NULL
 * after "* OK [CAPABILITY] x" (fuzz-imap); this does not. */
gboolean ms_imap_has (MsImapSession *session, const char *extension);

/* Set @error for libetpan's result @r of @what: the network layer's
 * reason when the connection was dropped, else the server's answer.
 * Returns FALSE. */
gboolean ms_imap_fail (MsImapSession *session, int r, const char *what, GError **error);
