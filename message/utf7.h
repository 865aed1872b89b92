/* mailsift message model - IMAP modified UTF-7 (RFC 3501 5.1.3), the encoding Maildir++
 * folder names use on disk (as Dovecot and Courier do). */
#pragma once

#include <glib.h>

/* Encode a UTF-8 folder name. Printable ASCII except '&' is copied, '&'
 * becomes "&-", everything else is base64 (modified) of UTF-16BE between
 * '&' and '-'. Returns NULL if @utf8 is not valid UTF-8. Transfer full. */
char *ms_utf7_imap_encode (const char *utf8);

/* Decode back to UTF-8; NULL (and @error set) on malformed input. */
char *ms_utf7_imap_decode (const char *mutf7, GError **error);
