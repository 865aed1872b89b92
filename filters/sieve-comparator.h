/* mailsift - Sieve comparators (RFC 5228 2.7.3): the collations of the
 * RFC 4790 registry that a script can name with :comparator.
 *
 * All strings are counted (pointer and length) and may hold any byte,
 * NUL included; nothing here needs them to be NUL-terminated. */
#pragma once

#include <glib.h>

typedef enum {
  MS_CMP_OCTET,           /* "i;octet": bytes as unsigned numbers */
  MS_CMP_ASCII_CASEMAP,   /* "i;ascii-casemap": a-z folded to A-Z, nothing else */
  MS_CMP_ASCII_NUMERIC,   /* "i;ascii-numeric": leading decimal digits as a number */
  MS_CMP_UNICODE_CASEMAP, /* "i;unicode-casemap" (RFC 5051) */
} MsSieveComparator;

/* The comparator called @name, exactly as RFC 4790 registers it ("i;octet",
 * "i;ascii-casemap", "i;ascii-numeric", "i;unicode-casemap"; case matters).
 * Returns TRUE and sets *@out; FALSE for an unknown name (*@out unchanged). */
gboolean ms_sieve_comparator_lookup (const char *name, MsSieveComparator *out);

/* The registered name of @c, e.g. "i;ascii-casemap". Static string. */
const char *ms_sieve_comparator_name (MsSieveComparator c);

/* RFC 4790 equality of @a and @b under @c.
 *
 * i;ascii-numeric compares the numbers formed by the leading digits of each
 * string ("042abc" equals "42"), of any length; a string that does not start
 * with a digit is positive infinity and equals every other such string.
 * i;unicode-casemap compares the RFC 5051 canonical forms (each character
 * mapped to its simple titlecase, then fully decomposed, NFKD); when either
 * string is not valid UTF-8 both are compared as i;octet. */
gboolean ms_sieve_comparator_equal (MsSieveComparator c, const char *a, gsize alen,
                                    const char *b, gsize blen);

/* RFC 4790 ordering of @a against @b under @c, for the relational :value
 * and :count tests (RFC 5231): negative when a < b, 0 when equal, positive
 * when a > b. A proper prefix sorts first. i;ascii-numeric: see
 * ms_sieve_comparator_equal; infinity is greater than every number. */
int ms_sieve_comparator_compare (MsSieveComparator c, const char *a, gsize alen,
                                 const char *b, gsize blen);

/* Whether @c has a substring operation, i.e. can be used with :contains and
 * :matches. FALSE only for i;ascii-numeric (RFC 4790 9.1): the interpreter
 * must reject such a test when the script is compiled. */
gboolean ms_sieve_comparator_supports_substring (MsSieveComparator c);

/* The RFC 4790 substring operation: whether @key occurs in @value under @c
 * (the empty key occurs in every value). i;unicode-casemap searches the
 * canonical forms, as RFC 5051 defines it. Linear in the lengths. FALSE for
 * a comparator without substring support. */
gboolean ms_sieve_comparator_contains (MsSieveComparator c, const char *value, gsize vlen,
                                       const char *key, gsize klen);

/* i;ascii-casemap's folding (RFC 4790 9.2.1: a-z to A-Z, nothing else):
 * @len bytes of @s to @out (which may be @s). Under i;ascii-casemap, two
 * strings are equal when their folded forms are equal byte for byte, and
 * one contains the other when the folded forms do: so a key can be folded
 * once when a script is compiled, and a value once for all its keys. */
void ms_sieve_ascii_fold (char *out, const char *s, gsize len);

/* The most code points one character's canonical form can have. */
#define MS_SIEVE_FOLD_MAX G_UNICHAR_MAX_DECOMPOSITION_LENGTH

/* The RFC 5051 canonical form of one character: its simple titlecase
 * mapping, fully decomposed (compatibility decomposition). Writes up to
 * MS_SIEVE_FOLD_MAX code points to @out and returns how many (at least 1).
 * Shared with the :matches matcher, which compares character by
 * character. */
gsize ms_sieve_comparator_fold_unichar (gunichar ch, gunichar out[MS_SIEVE_FOLD_MAX]);
