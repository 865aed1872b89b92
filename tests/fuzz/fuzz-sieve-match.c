/* Fuzz target for the Sieve match types and comparators
 * (filters/sieve-match.c, filters/sieve-comparator.c). Not built by make.
 *
 * libFuzzer with ASan and UBSan, from the top of the source tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *     -D_GNU_SOURCE -Iagent -Ifilters $(pkg-config --cflags glib-2.0) \
 *     tests/fuzz/fuzz-sieve-match.c filters/sieve-match.c filters/sieve-comparator.c \
 *     agent/error.c $(pkg-config --libs glib-2.0) -o fuzz-sieve-match
 *   mkdir -p fuzz-corpus
 *   ./fuzz-sieve-match -max_len=4096 -timeout=5 -max_total_time=600 fuzz-corpus
 *
 * -timeout matters: a matcher that goes exponential shows up as a timeout,
 * not a crash. Standalone, to replay inputs without libFuzzer: build the
 * same way with -DFUZZ_STANDALONE and -fsanitize=address,undefined (no
 * "fuzzer"), then `./fuzz-sieve-match FILE...`.
 *
 * Input: byte 0 picks the comparator (low two bits) and a relation (next
 * three); the rest is split at its first NUL into the key (before; also
 * the :regex pattern) and the value (after; may hold more NULs).
 *
 * Besides the sanitizers' checks, this asserts that :matches agrees with a
 * plain dynamic-programming matcher, that the match variables put back
 * together with the key's literal characters give the value again, and
 * that the comparators' equality and ordering agree with each other. */
#include "error.h"
#include "sieve-comparator.h"
#include "sieve-match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* ------------------------------------------------ reference :matches */

typedef struct
{
  int kind; /* 0 literal, 1 '?', 2 '*' */
  gunichar ch;
} RefTok;

static gboolean
ref_unicode (MsSieveComparator c, const char *value, gsize vlen, const char *key, gsize klen)
{
  return c == MS_CMP_UNICODE_CASEMAP && g_utf8_validate_len (value, vlen, NULL)
         && g_utf8_validate_len (key, klen, NULL);
}

/* Decode one character at @p: a byte, or a code point when @unicode. */
static gunichar
ref_char (const char *p, gboolean unicode, gsize *len_out)
{
  if (unicode && (guchar) *p >= 0x80)
    {
      *len_out = (gsize) (g_utf8_next_char (p) - p);
      return g_utf8_get_char (p);
    }
  *len_out = 1;
  return (guchar) *p;
}

static gboolean
ref_char_equal (MsSieveComparator c, gboolean unicode, gunichar a, gunichar b)
{
  gunichar fa[MS_SIEVE_FOLD_MAX], fb[MS_SIEVE_FOLD_MAX];
  gsize na, nb;

  if (c == MS_CMP_OCTET || (c == MS_CMP_UNICODE_CASEMAP && !unicode))
    return a == b;
  if (c == MS_CMP_ASCII_CASEMAP)
    return g_ascii_toupper ((char) a) == g_ascii_toupper ((char) b);
  na = ms_sieve_comparator_fold_unichar (a, fa);
  nb = ms_sieve_comparator_fold_unichar (b, fb);
  return na == nb && memcmp (fa, fb, na * sizeof (gunichar)) == 0;
}

static GArray *
ref_tokens (const char *key, gsize klen, gboolean unicode)
{
  GArray *toks = g_array_new (FALSE, FALSE, sizeof (RefTok));
  gsize i = 0, n;

  while (i < klen)
    {
      RefTok t = { 0, 0 };

      if (key[i] == '*' || key[i] == '?')
        {
          t.kind = key[i] == '*' ? 2 : 1;
          i++;
        }
      else
        {
          if (key[i] == '\\' && i + 1 < klen)
            i++;
          t.ch = ref_char (key + i, unicode, &n);
          i += n;
        }
      g_array_append_val (toks, t);
    }
  return toks;
}

/* Classic O(n * m) table: reach[j] = the key's first j tokens can match
 * the value's first i characters. */
static gboolean
ref_glob (MsSieveComparator c, const char *value, gsize vlen, const char *key, gsize klen)
{
  gboolean unicode = ref_unicode (c, value, vlen, key, klen);
  g_autoptr (GArray) toks = ref_tokens (key, klen, unicode);
  const RefTok *t = (const RefTok *) (void *) toks->data;
  gsize m = toks->len, n;
  g_autofree gboolean *reach = g_new0 (gboolean, m + 1);
  g_autofree gboolean *next = g_new0 (gboolean, m + 1);

  reach[0] = TRUE;
  for (gsize j = 1; j <= m; j++)
    reach[j] = reach[j - 1] && t[j - 1].kind == 2;
  for (gsize i = 0; i < vlen; i += n)
    {
      gunichar ch = ref_char (value + i, unicode, &n);

      next[0] = FALSE;
      for (gsize j = 1; j <= m; j++)
        {
          if (t[j - 1].kind == 2)
            next[j] = next[j - 1] || reach[j];
          else if (t[j - 1].kind == 1)
            next[j] = reach[j - 1];
          else
            next[j] = reach[j - 1] && ref_char_equal (c, unicode, t[j - 1].ch, ch);
        }
      memcpy (reach, next, (m + 1) * sizeof (gboolean));
    }
  return reach[m];
}

/* Walk the key over the value with the captures filling its wildcards:
 * every literal must fall on an equal character, every '?' on exactly the
 * captured character, and the walk must end at the end of the value. */
static void
check_captures (MsSieveComparator c, const char *value, gsize vlen, const char *key, gsize klen,
                GPtrArray *captures)
{
  gboolean unicode = ref_unicode (c, value, vlen, key, klen);
  g_autoptr (GArray) toks = ref_tokens (key, klen, unicode);
  const RefTok *t = (const RefTok *) (void *) toks->data;
  gsize pos = 0, k = 1, n;

  if (memchr (value, '\0', vlen) != NULL)
    return; /* captures are C strings: cut at a NUL */
  g_assert_cmpuint (captures->len, >=, 1);
  g_assert_cmpuint (strlen (g_ptr_array_index (captures, 0)), ==, vlen);
  g_assert_true (memcmp (g_ptr_array_index (captures, 0), value, vlen) == 0);
  for (gsize j = 0; j < toks->len; j++)
    {
      if (t[j].kind == 0)
        {
          g_assert_cmpuint (pos, <, vlen);
          g_assert_true (ref_char_equal (c, unicode, t[j].ch, ref_char (value + pos, unicode, &n)));
          pos += n;
          continue;
        }
      g_assert_cmpuint (k, <, captures->len);
      {
        const char *cap = g_ptr_array_index (captures, k++);
        gsize clen = strlen (cap);

        g_assert_cmpuint (pos + clen, <=, vlen);
        g_assert_true (memcmp (cap, value + pos, clen) == 0);
        if (t[j].kind == 1)
          {
            g_assert_cmpuint (clen, >, 0);
            ref_char (value + pos, unicode, &n);
            g_assert_cmpuint (clen, ==, n);
          }
        pos += clen;
      }
    }
  g_assert_cmpuint (k, ==, captures->len);
  g_assert_cmpuint (pos, ==, vlen);
}

/* ------------------------------------------------------------- target */

static int
sign (int x)
{
  return (x > 0) - (x < 0);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  MsSieveComparator c;
  MsSieveRelation rel;
  const char *key, *value, *nul;
  gsize klen, vlen;
  gboolean matched;
  g_autoptr (GPtrArray) captures = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsSieveRegex) re = NULL;
  g_autofree char *key_str = NULL;

  if (size < 1)
    return 0;
  c = (MsSieveComparator) (data[0] & 3);
  rel = (MsSieveRelation) (((data[0] >> 2) & 7) % 6);
  key = (const char *) data + 1;
  nul = memchr (key, '\0', size - 1);
  klen = nul != NULL ? (gsize) (nul - key) : size - 1;
  value = nul != NULL ? nul + 1 : key + klen;
  vlen = size - 1 - klen - (nul != NULL ? 1 : 0);
  key_str = g_strndup (key, klen);

  /* comparators: equality is ordering == 0, ordering is antisymmetric */
  {
    int ab = ms_sieve_comparator_compare (c, key, klen, value, vlen);
    int ba = ms_sieve_comparator_compare (c, value, vlen, key, klen);

    g_assert_cmpint (sign (ab), ==, -sign (ba));
    g_assert_true (ms_sieve_comparator_equal (c, key, klen, value, vlen) == (ab == 0));
    g_assert_true (ms_sieve_comparator_equal (c, value, vlen, value, vlen));
  }
  if (c == MS_CMP_OCTET)
    g_assert_true (ms_sieve_comparator_contains (c, value, vlen, key, klen)
                   == (klen == 0 || (klen <= vlen && memmem (value, vlen, key, klen) != NULL)));
  else
    (void) ms_sieve_comparator_contains (c, value, vlen, key, klen);
  (void) ms_sieve_match_one (MS_MATCH_VALUE, rel, c, value, vlen, key, klen, NULL);
  (void) ms_sieve_match_count ((guint) vlen, rel, c, key_str);

  /* :matches against the reference, and its captures */
  matched = ms_sieve_match_glob (c, value, vlen, key, klen, captures);
  g_assert_true (matched == ms_sieve_match_glob (c, value, vlen, key, klen, NULL));
  if (ms_sieve_comparator_supports_substring (c))
    {
      if (vlen * klen <= 4 * 1024 * 1024)
        g_assert_true (matched == ref_glob (c, value, vlen, key, klen));
      if (matched)
        check_captures (c, value, vlen, key, klen, captures);
    }
  else
    g_assert_false (matched);

  /* :regex: the key up to the NUL is the pattern */
  re = ms_sieve_regex_new (key_str, c, &error);
  if (re != NULL)
    {
      g_ptr_array_set_size (captures, 0);
      if (ms_sieve_regex_match (re, value, vlen, captures))
        {
          g_assert_cmpuint (captures->len, >=, 1);
          g_assert_cmpuint (captures->len, <=, 10);
        }
    }
  else
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == MS_ERROR);
    }
  return 0;
}

#ifdef FUZZ_STANDALONE
int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *contents = NULL;
      gsize len = 0;
      g_autoptr (GError) error = NULL;

      if (!g_file_get_contents (argv[i], &contents, &len, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      LLVMFuzzerTestOneInput ((const guint8 *) contents, len);
      printf ("%s: ok\n", argv[i]);
    }
  return 0;
}
#endif
