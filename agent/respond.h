/* mailsift - messages mailsift writes itself (vacation replies, reject
 * notices, notifications) and the rules for when it must stay silent
 * (RFC 3834, RFC 5230 4.5-4.6, RFC 5429). */
#pragma once

#include "action.h"
#include "config.h"
#include "header.h"

#include <glib.h>

/* Why no automatic answer may go to the sender of this message, or NULL
 * when one may: null or daemon envelope sender, Auto-Submitted, Precedence
 * bulk/list/junk, List-* headers, or a sender that is the user. */
const char *ms_respond_sender_refuses (const MsConfig *config, const MsHeaderView *view,
                                       const char *envelope_from);

/* Why this vacation must not be sent, or NULL: the sender rules above,
 * plus "none of your addresses is a recipient" (To, Cc, Bcc, Resent-*
 * against config addresses, :from, and the envelope recipient). */
const char *ms_vacation_refuses (const MsConfig *config, const MsHeaderView *view,
                                 const char *envelope_from, const char *envelope_to,
                                 const MsAction *vacation);

/* Why the message for @action (vacation or notify) must not be built, or
 * NULL: one of the strings that go into its header (:from, :subject,
 * :handle, :addresses, the notify method) holds a line break or another
 * control character, which would add header fields of the script's (or
 * a variable's, so the sender's) choosing. Both Sieve engines refuse
 * these already; this is where their actions meet before a reply is
 * built, so it is checked again. Transfer full. */
char *ms_respond_unsafe (const MsAction *action);

/* :days bounded to 1..vacation_max_days (7 when unset). */
int ms_vacation_days (const MsConfig *config, const MsAction *vacation);

/* :handle, or one derived from subject, from and reason (RFC 5230 4.2).
 * Transfer full. */
char *ms_vacation_handle (const MsAction *vacation);

/* The address answers come from: :from, else the first configured
 * address, else the envelope recipient. May be NULL. Transfer full. */
char *ms_respond_from_address (const MsConfig *config, const MsAction *action,
                               const char *envelope_to);

/* The complete reply message (RFC 3834 headers, UTF-8 text or the
 * :mime body). Transfer full. */
GBytes *ms_vacation_build (const MsHeaderView *original, const MsAction *vacation,
                           const char *from, const char *to);

/* A rejection notice to the sender (RFC 5429 2.2: an MDN with the
 * original header). Transfer full. */
GBytes *ms_reject_build (const MsHeaderView *original, GBytes *original_header,
                         const char *reason, const char *from, const char *to,
                         const char *final_recipient);

/* A failure notice for your INBOX: a queued message (@reason: redirect,
 * vacation...) could not be sent to @rcpt; @reply is the server's answer
 * or why it was given up. The notice attaches the whole queued message
 * (for a redirect it may be the only copy): the caller writes the
 * returned head, then @original's bytes, then *@tail_out. Transfer full. */
GBytes *ms_failure_notice_build (const char *to, const char *reason, const char *rcpt,
                                 const char *reply, const char *id, GBytes *original,
                                 char **tail_out);

/* A short notice for a notify :method "mailto:..." action. Transfer full. */
GBytes *ms_notify_build (const MsHeaderView *original, const MsAction *notify, const char *from,
                         const char *to);

/* The note put into the INBOX for a message over max_message_size that
 * stays on the server (@where: "FOLDER UID n" or "message n"): what it
 * is (from @header), why it was not fetched and what to do. */
GBytes *ms_oversize_notice_build (const char *to, const char *account, const char *where,
                                  guint64 size, guint64 limit, GBytes *header);
