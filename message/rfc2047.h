/* mailsift message model - RFC 2047 encoded words in header fields. */
#pragma once

#include <glib.h>

/* Decode RFC 2047 encoded words in @text (B and Q, any charset iconv knows;
 * adjacent encoded words separated only by white space are joined; a word
 * that cannot be decoded is left as it is). The result is valid UTF-8 with
 * no NUL. Transfer full. */
char *ms_rfc2047_decode (const char *text);
