/* mailsift - Sieve match types: :is, :contains, :matches (RFC 5228 2.7.1),
 * :regex (draft-ietf-sieve-regex), and the relational :value and :count
 * (RFC 5231), with the match variables of RFC 5229 3.2.
 *
 * Values and keys are counted strings and may hold any byte. Every matcher
 * here runs in polynomial time whatever the script and the message hold:
 * :matches never backtracks, and :regex refuses back-references and bounds
 * what it hands to regexec(3).
 *
 * Captures: where a function takes a GPtrArray *captures, it may be NULL.
 * Otherwise it must free its elements with g_free (create it with
 * g_ptr_array_new_with_free_func (g_free)); on a match its previous
 * contents are replaced by newly allocated NUL-terminated strings (a
 * capture holding a NUL byte is cut there, as a Sieve string would be); on
 * no match it is left alone, as RFC 5229 wants match variables kept. */
#pragma once

#include "sieve-comparator.h"

#include <glib.h>

typedef enum {
  MS_MATCH_IS,
  MS_MATCH_CONTAINS,
  MS_MATCH_MATCHES,
  MS_MATCH_REGEX,
  MS_MATCH_VALUE,
  MS_MATCH_COUNT,
} MsSieveMatchType;

typedef enum {
  MS_REL_GT,
  MS_REL_GE,
  MS_REL_LT,
  MS_REL_LE,
  MS_REL_EQ,
  MS_REL_NE,
} MsSieveRelation;

/* The relational match operator called @name: "gt", "ge", "lt", "le", "eq"
 * or "ne", in any case (RFC 5231 4). Returns TRUE and sets *@out; FALSE for
 * anything else (*@out unchanged). */
gboolean ms_sieve_relation_lookup (const char *name, MsSieveRelation *out);

/* The lower-case name of @rel, e.g. "ge". Static string. */
const char *ms_sieve_relation_name (MsSieveRelation rel);

/* Whether a comparison result @cmp (<0, 0, >0, as from
 * ms_sieve_comparator_compare) satisfies @rel. */
gboolean ms_sieve_relation_holds (MsSieveRelation rel, int cmp);

/* :matches. @key still holds the match-level escapes (RFC 5228 2.7.1): '*'
 * matches any run of characters, '?' exactly one, and a backslash makes
 * the character after it literal ("\\*", "\\?", "\\\\"; a key ending in a
 * lone backslash matches a backslash). Literal characters compare under @c;
 * a "character" is a byte for i;octet and i;ascii-casemap, and a Unicode
 * character for i;unicode-casemap, compared one character with one
 * character by its RFC 5051 canonical form (so a precomposed letter does
 * not match its decomposed spelling here, unlike with :is); a value or key
 * that is not valid UTF-8 is matched as i;octet. FALSE for i;ascii-numeric,
 * which has no substring operation.
 *
 * Time is O(len(value) * len(key)) at worst, with no backtracking: each
 * run of the key between two '*' is placed at its leftmost possible
 * position, the run before the first '*' at the start and the run after
 * the last '*' at the end. That gives Pigeonhole's match variables: each
 * '*' as short as possible from left to right, given that the whole key
 * matches. On a match, @captures (see above) gets ${0} = the whole value,
 * then one string per '*' and '?' in key order: the text the '*' spans, the
 * character the '?' stands for. Examples: "test1@example.org" against
 * "*@*.*" gives "test1", "example", "org"; "frop" against "??op" gives
 * "f", "r". */
gboolean ms_sieve_match_glob (MsSieveComparator c, const char *value, gsize vlen,
                              const char *key, gsize klen, GPtrArray *captures);

/* regexec(3) sees at most this many bytes of a value: a longer value is
 * matched on its first MS_SIEVE_REGEX_MAX_VALUE bytes only. glibc's
 * regexec has no exponential blow-up without back-references, but an
 * unanchored search restarts at every position, which makes it quadratic
 * in the value: measured, "[a-z]+@example\.com" against 64 KiB of "a"
 * and a near miss takes 6 s (past the default filter_timeout), 16 KiB
 * 0.4 s, 8 KiB 0.1 s. Header values rarely come near 8 KiB. */
#define MS_SIEVE_REGEX_MAX_VALUE (8 * 1024)

/* How large a pattern may grow once repetition counts are expanded
 * ("(a{10}){10}" is about 100), in regex atoms, and how deeply groups may
 * nest: regcomp(3) would otherwise spend unbounded time, memory and stack
 * ("(.*){2700}" alone takes glibc 2 s to compile). */
#define MS_SIEVE_REGEX_MAX_SIZE 1024
#define MS_SIEVE_REGEX_MAX_DEPTH 64

/* A compiled :regex key. */
typedef struct _MsSieveRegex MsSieveRegex;

/* Compile @pattern as a POSIX extended regular expression (regcomp
 * REG_EXTENDED, plus REG_ICASE for i;ascii-casemap and i;unicode-casemap)
 * for the interpreter to cache. A run of repetition operators, undefined in
 * POSIX, is compiled as the one operator glibc always made of it (".*?" is
 * ".*", "x+?" is "x*"): glibc would otherwise nest them at exponential
 * cost. Refused, with MS_ERROR_SCRIPT and a message that quotes the pattern
 * and says what is wrong: back-references (\1 to \9, which make glibc's
 * matcher exponential), an interval next to another repetition ("a{2}*"),
 * patterns over MS_SIEVE_REGEX_MAX_SIZE or MS_SIEVE_REGEX_MAX_DEPTH, the
 * i;ascii-numeric comparator, and whatever regcomp(3) rejects. Transfer
 * full. */
MsSieveRegex *ms_sieve_regex_new (const char *pattern, MsSieveComparator c, GError **error);

/* Free @re; NULL is ignored. */
void ms_sieve_regex_free (MsSieveRegex *re);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSieveRegex, ms_sieve_regex_free)

/* Whether @re matches anywhere in the first MS_SIEVE_REGEX_MAX_VALUE bytes
 * of @value (NUL bytes included: REG_STARTEND). On a match, @captures (see
 * above) gets ${0} = the matched text, then one string per group up to
 * ${9}: the text group N matched, or "" for a group that took no part. */
gboolean ms_sieve_regex_match (const MsSieveRegex *re, const char *value, gsize vlen,
                               GPtrArray *captures);

/* One value against one key for :is, :contains, :matches or :value (with
 * @rel; value on the left: "value gt key"); @rel is ignored otherwise.
 * :contains and :matches are FALSE under i;ascii-numeric. @captures (see
 * above) is only filled by :matches. :regex and :count have their own
 * functions; passing them here is a programming error (FALSE). */
gboolean ms_sieve_match_one (MsSieveMatchType m, MsSieveRelation rel, MsSieveComparator c,
                             const char *value, gsize vlen, const char *key, gsize klen,
                             GPtrArray *captures);

/* :count (RFC 5231 4.2): @count written in decimal, compared with @key
 * under @c and @rel ("count rel key"). @key is NUL-terminated. With
 * i;ascii-numeric, the usual comparator here, a key that is not a number
 * is infinity: "lt" holds and "eq" does not. */
gboolean ms_sieve_match_count (guint count, MsSieveRelation rel, MsSieveComparator c,
                               const char *key);
