/* mailsift message model - e-mail addresses: parsing header address lists, validating an
 * address before it can reach an SMTP command, and subaddress splitting
 * (RFC 5233). */
#pragma once

#include <glib.h>

/* The addr-specs (local@domain, as written; no display names, comments or
 * angle brackets) found in an RFC 5322 address-list header value. Tolerant
 * of groups, comments, quoted display names, obsolete routes and missing
 * brackets; entries without an '@' are kept as they are. Never fails.
 * Returns a NULL-terminated array, possibly empty. Transfer full. */
char **ms_address_list_parse (const char *value);

/* TRUE when @addr is a plain addr-spec that is safe on the wire: one '@',
 * non-empty local part (<= 64 bytes) and domain (<= 255), total <= 254,
 * no control characters, no space, no CR/LF, no '<' '>' ',' outside a
 * quoted local part. On FALSE, @why_out (if not NULL) gets a static reason. */
gboolean ms_address_is_valid (const char *addr, const char **why_out);

/* Split an address for :localpart/:domain/:user/:detail. The local part
 * is split at the first character that occurs in @separators (e.g. "+");
 * @detail_out is NULL when there is no separator. Any out pointer may be
 * NULL. Returns FALSE only for an address without '@' (then localpart is
 * the whole address and domain is NULL). Transfer full for each out. */
gboolean ms_address_split (const char *addr, const char *separators,
                           char **localpart_out, char **domain_out,
                           char **user_out, char **detail_out);

/* Case-insensitive comparison of two addr-specs: local part exact except
 * for ASCII case, domain ASCII case-insensitive. Surrounding white space,
 * one pair of angle brackets and a final '.' on the domain are ignored.
 * NULL or an empty address equals nothing. */
gboolean ms_address_equal (const char *a, const char *b);

/* The first byte after the quoted string (close '"') or domain literal
 * (close ']') starting at @p, honouring backslash escapes; an
 * unterminated one runs to the end. Shared with the header view, which
 * must walk address values exactly as the parser does. */
const char *ms_address_skip_quoted (const char *p, char close);

/* The first byte after the (nested) comment starting at @p. */
const char *ms_address_skip_comment (const char *p);
