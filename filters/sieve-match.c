#include "sieve-match.h"

#include "error.h"

#include <regex.h>
#include <string.h>

/* ------------------------------------------------------------ relations */

static const char *const relation_names[] = {
  [MS_REL_GT] = "gt", [MS_REL_GE] = "ge", [MS_REL_LT] = "lt",
  [MS_REL_LE] = "le", [MS_REL_EQ] = "eq", [MS_REL_NE] = "ne",
};

gboolean
ms_sieve_relation_lookup (const char *name, MsSieveRelation *out)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (relation_names); i++)
    if (g_ascii_strcasecmp (name, relation_names[i]) == 0)
      {
        *out = (MsSieveRelation) i;
        return TRUE;
      }
  return FALSE;
}

const char *
ms_sieve_relation_name (MsSieveRelation rel)
{
  g_return_val_if_fail ((guint) rel < G_N_ELEMENTS (relation_names), NULL);

  return relation_names[rel];
}

gboolean
ms_sieve_relation_holds (MsSieveRelation rel, int cmp)
{
  switch (rel)
    {
    case MS_REL_GT:
      return cmp > 0;
    case MS_REL_GE:
      return cmp >= 0;
    case MS_REL_LT:
      return cmp < 0;
    case MS_REL_LE:
      return cmp <= 0;
    case MS_REL_EQ:
      return cmp == 0;
    case MS_REL_NE:
      return cmp != 0;
    }
  g_return_val_if_reached (FALSE);
}

/* ------------------------------------------------------------- captures */

/* @len bytes of @s, NUL-terminated. Unlike g_strndup, a NUL inside is
 * copied too (for a capture it merely ends the C string early). */
static char *
dup_counted (const char *s, gsize len)
{
  char *out = g_malloc (len + 1);

  if (len > 0)
    memcpy (out, s, len);
  out[len] = '\0';
  return out;
}

/* ------------------------------------------------------------- :matches */

/* The matcher works on "units": one per character of the value, holding
 * the character already folded under the comparator (a byte, an upper-case
 * byte, or an RFC 5051 canonical form), so that comparing two characters
 * is comparing two integers. Canonical forms longer than one code point get
 * ids above the Unicode range, handed out as they are met. */
#define MULTI_UNIT_BASE 0x110000u

typedef struct
{
  MsSieveComparator cmp; /* never i;ascii-numeric */
  GHashTable *multi;     /* GBytes of gunichar[] -> id; unicode only */
} Folder;

static void
folder_clear (Folder *folder)
{
  g_clear_pointer (&folder->multi, g_hash_table_unref);
}

/* An ASCII character folds to upper case under both casemaps (RFC 4790
 * 9.2.1, and RFC 5051's titlecase agrees for ASCII). */
static guint32
fold_byte (const Folder *folder, char c)
{
  return folder->cmp == MS_CMP_OCTET ? (guchar) c : (guchar) g_ascii_toupper (c);
}

static guint32
fold_unichar (Folder *folder, gunichar ch)
{
  gunichar folded[MS_SIEVE_FOLD_MAX];
  gsize n = ms_sieve_comparator_fold_unichar (ch, folded);
  g_autoptr (GBytes) key = NULL;
  gpointer id;

  if (n == 1)
    return folded[0];
  if (folder->multi == NULL)
    folder->multi = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                           (GDestroyNotify) g_bytes_unref, NULL);
  key = g_bytes_new (folded, n * sizeof (gunichar));
  if (g_hash_table_lookup_extended (folder->multi, key, NULL, &id))
    return GPOINTER_TO_UINT (id);
  id = GUINT_TO_POINTER (MULTI_UNIT_BASE + g_hash_table_size (folder->multi));
  g_hash_table_insert (folder->multi, g_steal_pointer (&key), id);
  return GPOINTER_TO_UINT (id);
}

/* A header value or key is short: the matcher's arrays are on the stack
 * up to this many elements, on the heap beyond. */
#define GLOB_STACK 256

typedef struct
{
  guint32 *units;
  gsize n;
  gsize *offsets; /* n + 1 byte offsets of the characters; NULL: unit i is byte i */
  guint32 stack[GLOB_STACK];
} Units;

static void
units_clear (Units *u)
{
  if (u->units != u->stack)
    g_free (u->units);
  u->units = NULL;
  g_clear_pointer (&u->offsets, g_free);
}

/* @s as units; for i;unicode-casemap, @s must be valid UTF-8. */
static void
units_fold (Folder *folder, const char *s, gsize len, Units *out)
{
  out->units = len + 1 <= GLOB_STACK ? out->stack : g_new (guint32, len + 1);
  out->n = 0;
  out->offsets = NULL;
  if (folder->cmp != MS_CMP_UNICODE_CASEMAP)
    {
      for (gsize i = 0; i < len; i++)
        out->units[i] = fold_byte (folder, s[i]);
      out->n = len;
      return;
    }
  out->offsets = g_new (gsize, len + 1);
  for (const char *p = s; p < s + len; p = g_utf8_next_char (p))
    {
      out->offsets[out->n] = (gsize) (p - s);
      out->units[out->n++] = (guchar) *p < 0x80 ? fold_byte (folder, *p)
                                                : fold_unichar (folder, g_utf8_get_char (p));
    }
  out->offsets[out->n] = len;
}

static gsize
units_byte_offset (const Units *u, gsize i)
{
  return u->offsets != NULL ? u->offsets[i] : i;
}

typedef enum {
  TOK_CHAR, /* a literal character: unit */
  TOK_ANY,  /* '?' */
  TOK_STAR, /* '*' */
} TokKind;

typedef struct
{
  TokKind kind;
  guint32 unit;
} Tok;

/* The key as tokens, with its escapes resolved, into @toks (room for
 * @klen); returns how many. */
static gsize
key_tokenize (Folder *folder, const char *key, gsize klen, Tok *toks)
{
  gboolean unicode = folder->cmp == MS_CMP_UNICODE_CASEMAP;
  const char *end = key + klen;
  gsize n = 0;

  for (const char *p = key; p < end;)
    {
      Tok t = { TOK_CHAR, 0 };

      if (*p == '*' || *p == '?')
        {
          t.kind = *p == '*' ? TOK_STAR : TOK_ANY;
          p++;
          toks[n++] = t;
          continue;
        }
      /* "\x" is a literal x; a lone backslash at the end stands for itself */
      if (*p == '\\' && p + 1 < end)
        p++;
      if (unicode && (guchar) *p >= 0x80)
        {
          t.unit = fold_unichar (folder, g_utf8_get_char (p));
          p = g_utf8_next_char (p);
        }
      else
        t.unit = fold_byte (folder, *p++);
      toks[n++] = t;
    }
  return n;
}

/* A run of the key between two '*' (or an end of the key). */
typedef struct
{
  const Tok *toks;
  gsize len;
  gboolean has_any;
  gsize pos; /* where it matched in the value, in units */
} Segment;

static gboolean
segment_at (const Segment *seg, const guint32 *v, gsize p)
{
  for (gsize j = 0; j < seg->len; j++)
    if (seg->toks[j].kind == TOK_CHAR && seg->toks[j].unit != v[p + j])
      return FALSE;
  return TRUE;
}

/* Knuth-Morris-Pratt over units, for a segment of literal characters
 * only: linear in the text and the segment. */
static gsize
segment_find_literal (const Segment *seg, const guint32 *v, gsize from, gsize to)
{
  gsize stack[GLOB_STACK];
  g_autofree gsize *heap = seg->len <= GLOB_STACK ? NULL : g_new (gsize, seg->len);
  gsize *fail = heap ? heap : stack;
  gsize k = 0;

  fail[0] = 0;
  for (gsize i = 1; i < seg->len; i++)
    {
      while (k > 0 && seg->toks[i].unit != seg->toks[k].unit)
        k = fail[k - 1];
      if (seg->toks[i].unit == seg->toks[k].unit)
        k++;
      fail[i] = k;
    }
  k = 0;
  for (gsize p = from; p < to; p++)
    {
      while (k > 0 && v[p] != seg->toks[k].unit)
        k = fail[k - 1];
      if (v[p] == seg->toks[k].unit)
        k++;
      if (k == seg->len)
        return p + 1 - seg->len;
    }
  return G_MAXSIZE;
}

/* The leftmost position p in [from, to - len] where @seg matches
 * v[p, p + len), or G_MAXSIZE. With '?' in the segment this is the plain
 * O(n * len) scan; still no backtracking across segments. */
static gsize
segment_find (const Segment *seg, const guint32 *v, gsize from, gsize to)
{
  if (to < from || to - from < seg->len)
    return G_MAXSIZE;
  if (seg->len == 0)
    return from;
  if (!seg->has_any)
    return segment_find_literal (seg, v, from, to);
  for (gsize p = from; p + seg->len <= to; p++)
    if (segment_at (seg, v, p))
      return p;
  return G_MAXSIZE;
}

/* Split the @n tokens @t at every '*' into @segs (room for nstars + 1,
 * as many as there are); returns how many. */
static gsize
key_segments (const Tok *t, gsize n, Segment *segs)
{
  Segment cur = { t, 0, FALSE, 0 };
  gsize nsegs = 0;

  for (gsize i = 0; i < n; i++)
    {
      if (t[i].kind == TOK_STAR)
        {
          segs[nsegs++] = cur;
          cur = (Segment) { t + i + 1, 0, FALSE, 0 };
          continue;
        }
      cur.len++;
      cur.has_any |= t[i].kind == TOK_ANY;
    }
  segs[nsegs++] = cur;
  return nsegs;
}

/* Place every segment (see ms_sieve_match_glob): the first at the start,
 * the last at the end, the ones between leftmost in order. Leftmost is
 * never worse than any other placement for what follows, so a failure here
 * means there is no match at all. */
static gboolean
segments_place (Segment *segs, gsize nsegs, const guint32 *v, gsize n)
{
  Segment *first = &segs[0], *last = &segs[nsegs - 1];
  gsize pos, tail;

  if (nsegs == 1)
    return first->len == n && segment_at (first, v, 0);
  if (first->len + last->len > n)
    return FALSE;
  if (!segment_at (first, v, 0))
    return FALSE;
  tail = n - last->len;
  pos = first->len;
  for (gsize i = 1; i + 1 < nsegs; i++)
    {
      gsize at = segment_find (&segs[i], v, pos, tail);

      if (at == G_MAXSIZE)
        return FALSE;
      segs[i].pos = at;
      pos = at + segs[i].len;
    }
  last->pos = tail;
  return segment_at (last, v, tail);
}

static void
add_unit_range (GPtrArray *captures, const char *value, const Units *u, gsize from, gsize to)
{
  gsize a = units_byte_offset (u, from), b = units_byte_offset (u, to);

  g_ptr_array_add (captures, dup_counted (value + a, b - a));
}

/* ${0}, then every '?' and '*' in key order. */
static void
segments_capture (const Segment *segs, gsize nsegs, const char *value, gsize vlen,
                  const Units *u, GPtrArray *captures)
{
  g_ptr_array_set_size (captures, 0);
  g_ptr_array_add (captures, dup_counted (value, vlen));
  for (gsize i = 0; i < nsegs; i++)
    {
      for (gsize j = 0; j < segs[i].len; j++)
        if (segs[i].toks[j].kind == TOK_ANY)
          add_unit_range (captures, value, u, segs[i].pos + j, segs[i].pos + j + 1);
      if (i + 1 < nsegs)
        add_unit_range (captures, value, u, segs[i].pos + segs[i].len, segs[i + 1].pos);
    }
}

gboolean
ms_sieve_match_glob (MsSieveComparator c, const char *value, gsize vlen,
                     const char *key, gsize klen, GPtrArray *captures)
{
  Folder folder = { c, NULL };
  Units u;
  Tok tok_stack[GLOB_STACK];
  Segment seg_stack[GLOB_STACK / 4];
  g_autofree Tok *tok_heap = NULL;
  g_autofree Segment *seg_heap = NULL;
  Tok *toks;
  Segment *segs;
  gsize ntoks, nsegs = 1;
  gboolean matched;

  g_return_val_if_fail (value != NULL || vlen == 0, FALSE);
  g_return_val_if_fail (key != NULL || klen == 0, FALSE);

  if (!ms_sieve_comparator_supports_substring (c))
    return FALSE;
  /* (NULL, 0) is an empty string; no arithmetic on NULL below */
  value = value != NULL ? value : "";
  key = key != NULL ? key : "";
  if (c == MS_CMP_UNICODE_CASEMAP
      && !(g_utf8_validate_len (value, vlen, NULL) && g_utf8_validate_len (key, klen, NULL)))
    folder.cmp = MS_CMP_OCTET;

  toks = klen <= GLOB_STACK ? tok_stack : (tok_heap = g_new (Tok, klen));
  ntoks = key_tokenize (&folder, key, klen, toks);
  for (gsize i = 0; i < ntoks; i++)
    nsegs += toks[i].kind == TOK_STAR;
  segs = nsegs <= G_N_ELEMENTS (seg_stack) ? seg_stack : (seg_heap = g_new (Segment, nsegs));
  key_segments (toks, ntoks, segs);
  units_fold (&folder, value, vlen, &u);
  matched = segments_place (segs, nsegs, u.units, u.n);
  if (matched && captures != NULL)
    segments_capture (segs, nsegs, value, vlen, &u, captures);
  units_clear (&u);
  folder_clear (&folder);
  return matched;
}

/* --------------------------------------------------------------- :regex */

struct _MsSieveRegex
{
  regex_t re;
};

/* Back-references make glibc's regexec exponential. Scanning escape pairs
 * from the left finds every "\N" regcomp could read as one (a bracket
 * expression cannot end between the two characters of a pair), and also
 * refuses the rare "[\1]", which can be written "[1\]". */
static gboolean
regex_check_backrefs (const char *pattern, GError **error)
{
  for (const char *p = pattern; *p; p++)
    {
      if (*p != '\\' || p[1] == '\0')
        continue;
      if (p[1] >= '1' && p[1] <= '9')
        {
          g_set_error (error, MS_ERROR, MS_ERROR_SCRIPT,
                       "regular expression \"%s\": back-reference \\%c (at offset %d) is not "
                       "supported", pattern, p[1], (int) (p - pattern));
          return FALSE;
        }
      p++;
    }
  return TRUE;
}

/* The first byte after the bracket expression opening at @p; an
 * unterminated one runs to the end (regcomp reports it). */
static const char *
skip_bracket (const char *p)
{
  p++;
  if (*p == '^')
    p++;
  if (*p == ']')
    p++;
  while (*p && *p != ']')
    {
      if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.'))
        {
          const char *close = p + 2;

          while (*close && !(close[0] == p[1] && close[1] == ']'))
            close++;
          if (*close)
            {
              p = close + 2;
              continue;
            }
        }
      p++;
    }
  return *p ? p + 1 : p;
}

/* Parse "{m}", "{m,}", "{m,n}" or glibc's "{,n}" at @p; returns the byte
 * after it and the largest repeat count it can make regcomp copy, or NULL
 * when @p is no interval (then regcomp reports it). Counts are clamped far
 * above anything regcomp accepts. */
static const char *
parse_interval (const char *p, gsize *count_out)
{
  gsize m = 0, n = 0;
  gboolean have_m = FALSE, comma = FALSE, have_n = FALSE;

  for (p++; g_ascii_isdigit (*p); p++)
    {
      m = MIN (m * 10 + (gsize) (*p - '0'), 1000000);
      have_m = TRUE;
    }
  if (*p == ',')
    {
      comma = TRUE;
      for (p++; g_ascii_isdigit (*p); p++)
        {
          n = MIN (n * 10 + (gsize) (*p - '0'), 1000000);
          have_n = TRUE;
        }
    }
  if (*p != '}' || (!have_m && !comma))
    return NULL;
  *count_out = MAX (have_n ? MAX (m, n) : comma ? m + 1 : m, 1);
  return p + 1;
}

typedef struct
{
  gsize done;   /* size of the finished alternatives of this group */
  gsize branch; /* size of the alternative being read */
  gsize last;   /* size of its last atom, which a repetition applies to */
} RegexFrame;

/* Copy @pattern to @out for regcomp, checking on the way how deeply its
 * groups nest and roughly how many nodes regcomp will build: repetitions
 * copy their atom ("x{3}" is "xxx", "x+" is "xx*"), groups hold their
 * alternatives. The estimate errs on the high side; syntax errors are left
 * to regcomp.
 *
 * Repetition operators in a row are undefined in POSIX, and glibc nests
 * them without bound: "(a+?)+?" twenty times takes regcomp seconds, and
 * grows exponentially. A run of '*', '+' and '?' is therefore replaced by
 * the one operator it amounts to ("x+?" is "(x+)?", i.e. "x*"; "x??" is
 * "x?"), so the ".*?" of a script written for Perl still means ".*" as it
 * always did; an interval next to any other repetition is refused. */
static gboolean
regex_normalize (const char *pattern, GString *out, GError **error)
{
  RegexFrame stack[MS_SIEVE_REGEX_MAX_DEPTH + 1] = { { 0 } };
  guint depth = 0;
  gboolean after_repeat = FALSE;

  for (const char *p = pattern; *p;)
    {
      RegexFrame *f = &stack[depth];
      const char *start = p, *after;
      gsize atom = 0, count, total = 0;
      char merged = '\0';
      gboolean repeat = FALSE, star = FALSE, plus = FALSE, opt = FALSE;

      switch (*p)
        {
        case '(':
          if (depth == MS_SIEVE_REGEX_MAX_DEPTH)
            {
              g_set_error (error, MS_ERROR, MS_ERROR_SCRIPT,
                           "regular expression \"%s\": groups nested more than %d deep",
                           pattern, MS_SIEVE_REGEX_MAX_DEPTH);
              return FALSE;
            }
          stack[++depth] = (RegexFrame) { 0 };
          p++;
          break;
        case ')':
          p++;
          if (depth == 0)
            atom = 1;
          else
            {
              atom = f->done + f->branch + 1;
              f = &stack[--depth];
            }
          break;
        case '|':
          f->done += f->branch;
          f->branch = f->last = 0;
          p++;
          break;
        case '[':
          p = skip_bracket (p);
          atom = 1;
          break;
        case '\\':
          p += p[1] ? 2 : 1;
          atom = 1;
          break;
        case '*':
        case '+':
        case '?':
          for (; *p == '*' || *p == '+' || *p == '?'; p++)
            {
              star |= *p == '*';
              plus |= *p == '+';
              opt |= *p == '?';
            }
          merged = star || (plus && opt) ? '*' : plus ? '+' : '?';
          repeat = TRUE;
          /* glibc copies the atom for '+' ("x+" is "xx*") */
          if (merged == '+')
            {
              f->branch += f->last + 1;
              f->last = 2 * f->last + 1;
            }
          else
            {
              f->branch++;
              f->last++;
            }
          break;
        case '{':
          after = parse_interval (p, &count);
          if (after == NULL)
            {
              p++;
              atom = 1;
              break;
            }
          repeat = TRUE;
          f->branch += f->last * (count - 1) + 1;
          f->last = f->last * count + 1;
          p = after;
          break;
        default:
          p++;
          atom = 1;
          break;
        }
      if (repeat && after_repeat)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_SCRIPT,
                       "regular expression \"%s\": the repetition at offset %d follows "
                       "another one, which POSIX leaves undefined; put the first in a group",
                       pattern, (int) (start - pattern));
          return FALSE;
        }
      after_repeat = repeat;
      if (atom > 0)
        {
          f->branch += atom;
          f->last = atom;
        }
      if (merged != '\0')
        g_string_append_c (out, merged);
      else
        g_string_append_len (out, start, p - start);
      for (guint i = 0; i <= depth; i++)
        total += stack[i].done + stack[i].branch;
      if (total > MS_SIEVE_REGEX_MAX_SIZE)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_SCRIPT,
                       "regular expression \"%s\" is too large once its repetitions are "
                       "expanded (limit %d atoms)", pattern, MS_SIEVE_REGEX_MAX_SIZE);
          return FALSE;
        }
    }
  return TRUE;
}

MsSieveRegex *
ms_sieve_regex_new (const char *pattern, MsSieveComparator c, GError **error)
{
  g_autofree MsSieveRegex *re = NULL;
  g_autoptr (GString) normalized = NULL;
  int flags = REG_EXTENDED;
  int rc;

  g_return_val_if_fail (pattern != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (c == MS_CMP_ASCII_NUMERIC)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_SCRIPT,
                   "regular expression \"%s\": comparator %s cannot be used with :regex",
                   pattern, ms_sieve_comparator_name (c));
      return NULL;
    }
  normalized = g_string_new (NULL);
  if (!regex_check_backrefs (pattern, error) || !regex_normalize (pattern, normalized, error))
    return NULL;
  if (c == MS_CMP_ASCII_CASEMAP || c == MS_CMP_UNICODE_CASEMAP)
    flags |= REG_ICASE;
  re = g_new0 (MsSieveRegex, 1);
  rc = regcomp (&re->re, normalized->str, flags);
  if (rc != 0)
    {
      char msg[256];

      regerror (rc, &re->re, msg, sizeof msg);
      g_set_error (error, MS_ERROR, MS_ERROR_SCRIPT, "regular expression \"%s\": %s", pattern,
                   msg);
      return NULL;
    }
  return g_steal_pointer (&re);
}

void
ms_sieve_regex_free (MsSieveRegex *re)
{
  if (re == NULL)
    return;
  regfree (&re->re);
  g_free (re);
}

gboolean
ms_sieve_regex_match (const MsSieveRegex *re, const char *value, gsize vlen, GPtrArray *captures)
{
  regmatch_t pm[10];
  gsize nmatch, len = MIN (vlen, MS_SIEVE_REGEX_MAX_VALUE);
  g_autofree char *text = NULL;

  g_return_val_if_fail (re != NULL, FALSE);
  g_return_val_if_fail (value != NULL || vlen == 0, FALSE);

  /* REG_STARTEND lets NUL bytes through; glibc reads no further than
   * rm_eo, but other regexec(3)s (and ASan's interceptor) want a
   * terminated string, and the value need not be one. */
  text = dup_counted (value, len);
  nmatch = 1 + MIN (re->re.re_nsub, G_N_ELEMENTS (pm) - 1);
  memset (pm, 0, sizeof pm);
  pm[0].rm_so = 0;
  pm[0].rm_eo = (regoff_t) len;
  if (regexec (&re->re, text, nmatch, pm, REG_STARTEND) != 0)
    return FALSE;
  if (captures == NULL)
    return TRUE;
  g_ptr_array_set_size (captures, 0);
  for (gsize i = 0; i < nmatch; i++)
    {
      if (pm[i].rm_so < 0 || pm[i].rm_eo < pm[i].rm_so)
        g_ptr_array_add (captures, g_strdup (""));
      else
        g_ptr_array_add (captures,
                         dup_counted (text + pm[i].rm_so, (gsize) (pm[i].rm_eo - pm[i].rm_so)));
    }
  return TRUE;
}

/* -------------------------------------------------------- the dispatcher */

gboolean
ms_sieve_match_one (MsSieveMatchType m, MsSieveRelation rel, MsSieveComparator c,
                    const char *value, gsize vlen, const char *key, gsize klen,
                    GPtrArray *captures)
{
  g_return_val_if_fail (value != NULL || vlen == 0, FALSE);
  g_return_val_if_fail (key != NULL || klen == 0, FALSE);

  switch (m)
    {
    case MS_MATCH_IS:
      return ms_sieve_comparator_equal (c, value, vlen, key, klen);
    case MS_MATCH_CONTAINS:
      return ms_sieve_comparator_contains (c, value, vlen, key, klen);
    case MS_MATCH_MATCHES:
      return ms_sieve_match_glob (c, value, vlen, key, klen, captures);
    case MS_MATCH_VALUE:
      return ms_sieve_relation_holds (rel, ms_sieve_comparator_compare (c, value, vlen, key, klen));
    case MS_MATCH_REGEX:
    case MS_MATCH_COUNT:
      break;
    }
  g_return_val_if_reached (FALSE);
}

gboolean
ms_sieve_match_count (guint count, MsSieveRelation rel, MsSieveComparator c, const char *key)
{
  char digits[16];
  int len;

  g_return_val_if_fail (key != NULL, FALSE);

  len = g_snprintf (digits, sizeof digits, "%u", count);
  return ms_sieve_relation_holds (rel, ms_sieve_comparator_compare (c, digits, (gsize) len, key,
                                                                    strlen (key)));
}
