#include "sieve-comparator.h"

#include <string.h>

static const char *const comparator_names[] = {
  [MS_CMP_OCTET] = "i;octet",
  [MS_CMP_ASCII_CASEMAP] = "i;ascii-casemap",
  [MS_CMP_ASCII_NUMERIC] = "i;ascii-numeric",
  [MS_CMP_UNICODE_CASEMAP] = "i;unicode-casemap",
};

gboolean
ms_sieve_comparator_lookup (const char *name, MsSieveComparator *out)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (comparator_names); i++)
    if (strcmp (name, comparator_names[i]) == 0)
      {
        *out = (MsSieveComparator) i;
        return TRUE;
      }
  return FALSE;
}

const char *
ms_sieve_comparator_name (MsSieveComparator c)
{
  g_return_val_if_fail ((guint) c < G_N_ELEMENTS (comparator_names), NULL);

  return comparator_names[c];
}

gboolean
ms_sieve_comparator_supports_substring (MsSieveComparator c)
{
  return c != MS_CMP_ASCII_NUMERIC;
}

/* ---------------------------------------------------------- i;octet */

static int
octet_compare (const char *a, gsize alen, const char *b, gsize blen)
{
  gsize n = MIN (alen, blen);
  int r = n > 0 ? memcmp (a, b, n) : 0;

  if (r != 0)
    return r;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static gboolean
octet_contains (const char *value, gsize vlen, const char *key, gsize klen)
{
  if (klen == 0)
    return TRUE;
  return klen <= vlen && memmem (value, vlen, key, klen) != NULL;
}

/* --------------------------------------------------- i;ascii-casemap */

/* RFC 4790 9.2.1 maps a-z to upper case, not the other way round: that
 * decides where "_" and friends sort relative to letters. Not locale
 * dependent, unlike toupper(3); inline, unlike g_ascii_toupper(), as it
 * runs for every byte a test compares. */
static inline guchar
ascii_upper (char c)
{
  return c >= 'a' && c <= 'z' ? (guchar) (c - ('a' - 'A')) : (guchar) c;
}

static int
ascii_compare (const char *a, gsize alen, const char *b, gsize blen)
{
  gsize n = MIN (alen, blen);

  for (gsize i = 0; i < n; i++)
    {
      guchar ca = ascii_upper (a[i]), cb = ascii_upper (b[i]);

      if (ca != cb)
        return ca < cb ? -1 : 1;
    }
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

void
ms_sieve_ascii_fold (char *out, const char *s, gsize len)
{
  g_return_if_fail (len == 0 || (out != NULL && s != NULL));

  for (gsize i = 0; i < len; i++)
    out[i] = (char) ascii_upper (s[i]);
}

/* @s in upper case, in @buf when it fits (header values and keys mostly
 * do), else in newly allocated memory that *@heap_out owns. */
static const char *
ascii_upper_copy (const char *s, gsize len, char *buf, gsize bufsize, char **heap_out)
{
  char *out = len <= bufsize ? buf : (*heap_out = g_malloc (len));

  for (gsize i = 0; i < len; i++)
    out[i] = (char) ascii_upper (s[i]);
  return out;
}

/* Both sides folded, then memmem(): linear however long either is. */
static gboolean
ascii_contains (const char *value, gsize vlen, const char *key, gsize klen)
{
  char vbuf[1024], kbuf[256];
  g_autofree char *vheap = NULL;
  g_autofree char *kheap = NULL;
  const char *v, *k;

  if (klen == 0)
    return TRUE;
  if (klen > vlen)
    return FALSE;
  v = ascii_upper_copy (value, vlen, vbuf, sizeof vbuf, &vheap);
  k = ascii_upper_copy (key, klen, kbuf, sizeof kbuf, &kheap);
  return memmem (v, vlen, k, klen) != NULL;
}

/* --------------------------------------------------- i;ascii-numeric */

/* The number at the start of @s as its significant digits (leading zeros
 * dropped, so zero has none). FALSE when @s does not start with a digit:
 * positive infinity. Numbers are compared as digit strings, so they can be
 * any length. */
static gboolean
numeric_digits (const char *s, gsize len, const char **digits_out, gsize *ndigits_out)
{
  gsize start = 0, end;

  if (len == 0 || !g_ascii_isdigit (s[0]))
    return FALSE;
  while (start < len && s[start] == '0')
    start++;
  end = start;
  while (end < len && g_ascii_isdigit (s[end]))
    end++;
  *digits_out = s + start;
  *ndigits_out = end - start;
  return TRUE;
}

static int
numeric_compare (const char *a, gsize alen, const char *b, gsize blen)
{
  const char *da = NULL, *db = NULL;
  gsize na = 0, nb = 0;
  gboolean fa = numeric_digits (a, alen, &da, &na);
  gboolean fb = numeric_digits (b, blen, &db, &nb);

  if (!fa || !fb)
    return fa == fb ? 0 : fa ? -1 : 1;
  if (na != nb)
    return na < nb ? -1 : 1;
  return na > 0 ? memcmp (da, db, na) : 0;
}

/* ------------------------------------------------- i;unicode-casemap */

gsize
ms_sieve_comparator_fold_unichar (gunichar ch, gunichar out[MS_SIEVE_FOLD_MAX])
{
  if (ch < 0x80)
    {
      out[0] = (gunichar) g_ascii_toupper ((char) ch);
      return 1;
    }
  return g_unichar_fully_decompose (g_unichar_totitle (ch), TRUE, out, MS_SIEVE_FOLD_MAX);
}

/* The RFC 5051 canonical form of @s, which must be valid UTF-8: each
 * character's folded form in turn (no reordering across characters, as
 * the RFC specifies). Compared with i;octet afterwards. */
static GString *
unicode_canonical (const char *s, gsize len)
{
  GString *out = g_string_sized_new (len + 1);
  const char *end = s + len;

  for (const char *p = s; p < end; p = g_utf8_next_char (p))
    {
      gunichar folded[MS_SIEVE_FOLD_MAX];
      gsize n;

      if ((guchar) *p < 0x80)
        {
          g_string_append_c (out, g_ascii_toupper (*p));
          continue;
        }
      n = ms_sieve_comparator_fold_unichar (g_utf8_get_char (p), folded);
      for (gsize i = 0; i < n; i++)
        g_string_append_unichar (out, folded[i]);
    }
  return out;
}

/* RFC 5051 only defines the collation for UTF-8; anything else (a raw
 * 8-bit header, an embedded NUL) falls back to i;octet for the pair. */
static gboolean
both_utf8 (const char *a, gsize alen, const char *b, gsize blen)
{
  return g_utf8_validate_len (a, alen, NULL) && g_utf8_validate_len (b, blen, NULL);
}

static int
unicode_compare (const char *a, gsize alen, const char *b, gsize blen)
{
  g_autoptr (GString) ca = NULL;
  g_autoptr (GString) cb = NULL;

  if (!both_utf8 (a, alen, b, blen))
    return octet_compare (a, alen, b, blen);
  ca = unicode_canonical (a, alen);
  cb = unicode_canonical (b, blen);
  return octet_compare (ca->str, ca->len, cb->str, cb->len);
}

static gboolean
unicode_contains (const char *value, gsize vlen, const char *key, gsize klen)
{
  g_autoptr (GString) cv = NULL;
  g_autoptr (GString) ck = NULL;

  if (!both_utf8 (value, vlen, key, klen))
    return octet_contains (value, vlen, key, klen);
  cv = unicode_canonical (value, vlen);
  ck = unicode_canonical (key, klen);
  return octet_contains (cv->str, cv->len, ck->str, ck->len);
}

/* ------------------------------------------------------------ dispatch */

int
ms_sieve_comparator_compare (MsSieveComparator c, const char *a, gsize alen,
                             const char *b, gsize blen)
{
  g_return_val_if_fail (a != NULL || alen == 0, 0);
  g_return_val_if_fail (b != NULL || blen == 0, 0);

  /* (NULL, 0) is an empty string; no arithmetic on NULL below */
  a = a != NULL ? a : "";
  b = b != NULL ? b : "";
  switch (c)
    {
    case MS_CMP_OCTET:
      return octet_compare (a, alen, b, blen);
    case MS_CMP_ASCII_CASEMAP:
      return ascii_compare (a, alen, b, blen);
    case MS_CMP_ASCII_NUMERIC:
      return numeric_compare (a, alen, b, blen);
    case MS_CMP_UNICODE_CASEMAP:
      return unicode_compare (a, alen, b, blen);
    }
  g_return_val_if_reached (0);
}

gboolean
ms_sieve_comparator_equal (MsSieveComparator c, const char *a, gsize alen,
                           const char *b, gsize blen)
{
  g_return_val_if_fail (a != NULL || alen == 0, FALSE);
  g_return_val_if_fail (b != NULL || blen == 0, FALSE);

  /* the byte-wise collations cannot be equal at different lengths */
  if ((c == MS_CMP_OCTET || c == MS_CMP_ASCII_CASEMAP) && alen != blen)
    return FALSE;
  return ms_sieve_comparator_compare (c, a, alen, b, blen) == 0;
}

gboolean
ms_sieve_comparator_contains (MsSieveComparator c, const char *value, gsize vlen,
                              const char *key, gsize klen)
{
  g_return_val_if_fail (value != NULL || vlen == 0, FALSE);
  g_return_val_if_fail (key != NULL || klen == 0, FALSE);

  value = value != NULL ? value : "";
  key = key != NULL ? key : "";
  switch (c)
    {
    case MS_CMP_OCTET:
      return octet_contains (value, vlen, key, klen);
    case MS_CMP_ASCII_CASEMAP:
      return ascii_contains (value, vlen, key, klen);
    case MS_CMP_ASCII_NUMERIC:
      return FALSE;
    case MS_CMP_UNICODE_CASEMAP:
      return unicode_contains (value, vlen, key, klen);
    }
  g_return_val_if_reached (FALSE);
}
