/* mailsift message model - the header view (see header.h), used by the
 * sources, delivery, replies and both Sieve engines. */
#include "header.h"

#include "address.h"
#include "rfc2047.h"

#include <string.h>

/* The header view is what Sieve tests see, so it has to be both forgiving
 * (real mail is full of broken headers) and safe: every byte is read
 * through explicit lengths, never through assumed terminators, because the
 * input comes straight from the network.
 *
 * It is also built for every message a script looks at, and a script
 * reads only a few of the fields, so building it is cheap: the header
 * block is copied once and unfolded in place, field names and values that
 * need no repair are NUL-terminated where they lie, and checking a value
 * for NULs and bad UTF-8 and decoding RFC 2047 wait until it is asked
 * for. */

#define REPLACEMENT_CHAR "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

enum
{
  OWNS_NAME = 1 << 0,
  OWNS_RAW = 1 << 1,
  OWNS_VALUE = 1 << 2,
};

typedef struct
{
  const char *name;  /* as written, valid UTF-8 */
  char *text;        /* the value unfolded and trimmed, in buf: text_len
                      * bytes (NULs and bad UTF-8 included), then a NUL */
  gsize text_len;
  const char *raw;   /* text made NUL-free, valid UTF-8: text itself when
                      * it is; NULL until first asked for */
  const char *value; /* raw with RFC 2047 decoded, no CR/LF; NULL until
                      * first asked for, raw itself when that changes nothing */
  guint next;        /* the next field of the same name, or G_MAXUINT */
  guint32 hash;      /* of the lower-cased name */
  guint owns;        /* OWNS_*: which strings are allocated, not in buf */
} MsField;

/* One distinct field name (any case). */
typedef struct
{
  guint first, last; /* its first and last field */
  guint count;
  const char **values; /* decoded, NULL-terminated; built by the first lookup */
} MsFieldName;

struct _MsHeaderView
{
  char *buf;           /* a copy of the header block, unfolded in place */
  MsField *fields;     /* in arrival order */
  guint n_fields, fields_size;
  MsFieldName *names;  /* in order of first appearance */
  guint n_names;
  guint *slots;        /* open addressing on MsField.hash: index in names + 1, 0 free */
  guint mask;          /* slots has mask + 1 entries, a power of two */
  gsize header_size;
  gboolean has_separator;
};

/* -------------------------------------------------- address header fields */

static gboolean
is_address_field (const char *name)
{
  static const char *const names[] = {
    "From",        "To",          "Cc",           "Bcc",          "Sender",
    "Reply-To",    "Resent-From", "Resent-To",    "Resent-Cc",    "Resent-Bcc",
    "Resent-Sender", "Delivered-To", "Return-Path", "X-Original-To", "Envelope-To",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

/* A quoted string, comment or domain literal as one unit; else one byte.
 * Address values are walked with the address parser's own skip
 * functions, so a decoded name is quoted exactly where
 * ms_address_list_parse() expects a name. */
static const char *
skip_construct (const char *p)
{
  switch (*p)
    {
    case '"':
      return ms_address_skip_quoted (p, '"');
    case '[':
      return ms_address_skip_quoted (p, ']');
    case '(':
      return ms_address_skip_comment (p);
    default:
      return p + 1;
    }
}

static const char *
skip_angle (const char *p)
{
  for (p++; *p && *p != '>';)
    p = skip_construct (p);
  return *p ? p + 1 : p;
}

/* The phrase [start, end) with quoted strings unquoted, for decoding:
 * senders do put encoded words inside quotes, though RFC 2047 5 says not
 * to, and readers decode them anyway. */
static char *
unquote_phrase (const char *start, const char *end)
{
  GString *s = g_string_new (NULL);

  for (const char *p = start; p < end; p++)
    {
      if (*p == '(')
        {
          /* a comment is kept as text, quotes in it and all */
          const char *close = MIN (ms_address_skip_comment (p), end);

          g_string_append_len (s, p, close - p);
          p = close - 1;
          continue;
        }
      if (*p != '"')
        {
          g_string_append_c (s, *p);
          continue;
        }
      for (p++; p < end && *p != '"'; p++)
        {
          if (*p == '\\' && p + 1 < end)
            p++;
          g_string_append_c (s, *p);
        }
    }
  return g_string_free (s, FALSE);
}

/* Append the phrase [start, end). A display name (@is_name) with encoded
 * words is decoded and re-quoted, so a decoded ',' '<' or '"' cannot change
 * which addresses the field holds; anything else is copied as it is. */
static void
append_phrase (GString *out, const char *start, const char *end, gboolean is_name)
{
  const char *s = start, *e = end;
  g_autofree char *plain = NULL, *decoded = NULL;

  while (s < e && (*s == ' ' || *s == '\t'))
    s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  if (is_name && s < e && g_strstr_len (s, e - s, "=?") != NULL)
    {
      plain = unquote_phrase (s, e);
      decoded = ms_rfc2047_decode (plain);
    }
  if (decoded == NULL || strcmp (decoded, plain) == 0)
    {
      g_string_append_len (out, start, end - start);
      return;
    }
  g_string_append_len (out, start, s - start);
  g_string_append_c (out, '"');
  for (const char *p = decoded; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
  g_string_append_len (out, e, end - e);
}

/* Decode an address list value: only display names (phrases before '<'
 * or a group's ':') are decoded; addresses, comments and anything that is
 * not clearly a display name stay as written. */
static char *
decode_address_list (const char *raw)
{
  GString *out = g_string_sized_new (strlen (raw) + 8);
  const char *phrase = raw, *p = raw;

  while (*p)
    {
      const char *next;

      switch (*p)
        {
        case '"':
        case '(':
        case '[':
          p = skip_construct (p);
          break;
        case '<':
          append_phrase (out, phrase, p, TRUE);
          next = skip_angle (p);
          g_string_append_len (out, p, next - p);
          p = phrase = next;
          break;
        case ':':
        case ',':
        case ';':
          append_phrase (out, phrase, p, *p == ':');
          g_string_append_c (out, *p);
          p = phrase = p + 1;
          break;
        default:
          p++;
          break;
        }
    }
  append_phrase (out, phrase, p, FALSE);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------ the view */

static inline guchar
ascii_lower (guchar c)
{
  return c >= 'A' && c <= 'Z' ? (guchar) (c + ('a' - 'A')) : c;
}

/* FNV-1a over the lower-cased bytes of @s. */
static guint32
name_hash (const char *s)
{
  guint32 h = 2166136261u;

  for (; *s; s++)
    h = (h ^ ascii_lower ((guchar) *s)) * 16777619u;
  return h;
}

/* A copy of [s, s+n) with NULs replaced, made valid UTF-8. */
static char *
clean_value (const char *s, gsize n)
{
  g_autoptr (GString) tmp = NULL;

  if (memchr (s, '\0', n) == NULL)
    return g_utf8_make_valid (s, (gssize) n);
  tmp = g_string_sized_new (n + 8);
  for (gsize i = 0; i < n; i++)
    {
      if (s[i] == '\0')
        g_string_append (tmp, REPLACEMENT_CHAR);
      else
        g_string_append_c (tmp, s[i]);
    }
  return g_utf8_make_valid (tmp->str, (gssize) tmp->len);
}

#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* Whether [s, s+n) is valid UTF-8 without NUL bytes, as most are: then
 * it can be used where it lies. */
static gboolean
is_clean (const char *s, gsize n)
{
  gsize i = 0;

  /* plain ASCII is the common case, eight bytes at a time: no byte with
   * its high bit set, and none zero */
  for (; i + 8 <= n; i += 8)
    {
      guint64 w;

      memcpy (&w, s + i, 8);
      if ((w & HIGHS) != 0 || ((w - ONES) & ~w & HIGHS) != 0)
        break;
    }
  while (i < n && (guchar) s[i] - 1u < 0x7fu)
    i++;
  /* g_utf8_validate_len() refuses NULs */
  return i == n || g_utf8_validate_len (s + i, n - i, NULL);
}

/* Add the field whose name is buf[name, colon) and whose unfolded value
 * is buf[vstart, vend). The bytes at @colon and @vend are free to
 * overwrite with the NULs that end the name and the value. */
static void
add_field (MsHeaderView *view, char *name, char *colon, char *vstart, char *vend)
{
  MsField *f;

  if (view->n_fields == view->fields_size)
    {
      view->fields_size *= 2;
      view->fields = g_renew (MsField, view->fields, view->fields_size);
    }
  f = &view->fields[view->n_fields++];
  memset (f, 0, sizeof *f);
  if (is_clean (name, (gsize) (colon - name)))
    {
      *colon = '\0';
      f->name = name;
    }
  else
    {
      f->name = g_utf8_make_valid (name, colon - name);
      f->owns |= OWNS_NAME;
    }
  while (vstart < vend && (*vstart == ' ' || *vstart == '\t'))
    vstart++;
  while (vend > vstart && (vend[-1] == ' ' || vend[-1] == '\t'))
    vend--;
  *vend = '\0';
  f->text = vstart;
  f->text_len = (gsize) (vend - vstart);
  f->next = G_MAXUINT;
  f->hash = name_hash (f->name);
}

/* A field name is at least one printable non-space byte; 8-bit bytes are
 * tolerated (and made valid UTF-8 later) since broken mailers send them. */
static gboolean
is_field_name (const char *s, gsize n)
{
  if (n == 0)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if ((guchar) s[i] <= 0x20 || s[i] == 0x7f)
      return FALSE;
  return TRUE;
}

static MsField *
field_at (const MsHeaderView *view, guint i)
{
  return &view->fields[i];
}

/* Whether field names @a and @b are the same but for ASCII case. */
static gboolean
same_name (const char *a, const char *b)
{
  for (; *a && ascii_lower ((guchar) *a) == ascii_lower ((guchar) *b); a++, b++)
    ;
  return *a == *b;
}

/* The slot where @name (hashed to @hash) is, or the free one where it
 * would go. */
static guint
find_slot (const MsHeaderView *view, const char *name, guint32 hash)
{
  guint i = hash & view->mask;

  for (;; i = (i + 1) & view->mask)
    {
      const MsFieldName *n;
      const MsField *f;

      if (view->slots[i] == 0)
        return i;
      n = &view->names[view->slots[i] - 1];
      f = field_at (view, n->first);
      if (f->hash == hash && same_name (f->name, name))
        return i;
    }
}

/* Group the fields by name: names, slots, and each field's next. */
static void
index_names (MsHeaderView *view)
{
  guint size = 16;

  while (size < 2 * view->n_fields)
    size *= 2;
  view->mask = size - 1;
  view->slots = g_new0 (guint, size);
  view->names = g_new (MsFieldName, MAX (view->n_fields, 1));
  for (guint i = 0; i < view->n_fields; i++)
    {
      MsField *f = field_at (view, i);
      guint slot = find_slot (view, f->name, f->hash);

      if (view->slots[slot] == 0)
        {
          view->names[view->n_names] = (MsFieldName) { i, i, 1, NULL };
          view->slots[slot] = ++view->n_names;
        }
      else
        {
          MsFieldName *n = &view->names[view->slots[slot] - 1];

          field_at (view, n->last)->next = i;
          n->last = i;
          n->count++;
        }
    }
}

/* How many bytes of @data the header block takes: through the empty
 * line that ends it; without one, all @limit bytes, less a last line cut
 * by MS_HEADER_MAX_BYTES (a field truncated at an arbitrary byte would
 * only mislead a filter, so that line belongs to the body). Only these
 * bytes are copied: @data is often the whole message. */
static gsize
header_extent (const char *data, gsize len, gsize limit)
{
  gsize pos = 0;

  while (pos < limit)
    {
      const char *lf = memchr (data + pos, '\n', limit - pos);
      gsize n;

      if (lf == NULL)
        return limit < len ? pos : limit;
      n = (gsize) (lf - (data + pos));
      if (n == 0 || (n == 1 && data[pos] == '\r'))
        return pos + n + 1;
      pos += n + 1;
    }
  return pos;
}

/* Parse the header block at the start of @data: see header.h. */
MsHeaderView *
ms_header_view_new (const char *data, gsize len)
{
  MsHeaderView *view;
  gsize limit;
  gsize pos = 0;
  char *buf;
  /* the field being collected, if any: name, colon, and its value so far,
   * unfolded: continuation lines are moved down over the line breaks */
  char *name = NULL, *colon = NULL, *vstart = NULL, *vend = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  limit = header_extent (data, len, MIN (len, MS_HEADER_MAX_BYTES));
  view = g_new0 (MsHeaderView, 1);
  view->fields_size = 32;
  view->fields = g_new (MsField, view->fields_size);
  /* one byte more, for the NUL after a value that ends the input */
  buf = view->buf = g_malloc (limit + 1);
  if (limit > 0)
    memcpy (buf, data, limit);
  buf[limit] = '\0';

  while (pos < limit)
    {
      char *line = buf + pos;
      const char *lf = memchr (line, '\n', limit - pos);
      char *c;
      gsize n, next;

      n = lf ? (gsize) (lf - line) : limit - pos;
      next = pos + n + (lf ? 1 : 0);
      if (n > 0 && line[n - 1] == '\r')
        n--;
      if (n == 0 && lf != NULL)
        {
          view->has_separator = TRUE;
          pos = next;
          break;
        }

      if (line[0] == ' ' || line[0] == '\t')
        {
          /* unfolding: the line break goes, the white space stays */
          if (name != NULL)
            {
              memmove (vend, line, n);
              vend += n;
            }
          pos = next;
          continue;
        }

      if (name != NULL)
        add_field (view, name, colon, vstart, vend);
      name = NULL;

      c = memchr (line, ':', n);
      if (!(pos == 0 && n >= 5 && memcmp (line, "From ", 5) == 0) && c != NULL
          && is_field_name (line, (gsize) (c - line)) && view->n_fields < MS_HEADER_MAX_FIELDS)
        {
          name = line;
          colon = c;
          vstart = c + 1;
          vend = line + n;
        }
      pos = next;
    }
  if (name != NULL)
    add_field (view, name, colon, vstart, vend);
  view->header_size = pos;
  index_names (view);
  return view;
}

/* Free @view and every string it handed out. NULL is fine. */
void
ms_header_view_free (MsHeaderView *view)
{
  if (view == NULL)
    return;
  for (guint i = 0; i < view->n_fields; i++)
    {
      MsField *f = field_at (view, i);

      if (f->owns & OWNS_NAME)
        g_free ((char *) f->name);
      if (f->owns & OWNS_RAW)
        g_free ((char *) f->raw);
      if (f->owns & OWNS_VALUE)
        g_free ((char *) f->value);
    }
  for (guint i = 0; i < view->n_names; i++)
    g_free (view->names[i].values);
  g_free (view->fields);
  g_free (view->names);
  g_free (view->slots);
  g_free (view->buf);
  g_free (view);
}

/* Bytes of the input the header block took: see header.h. */
gsize
ms_header_view_get_header_size (const MsHeaderView *view)
{
  g_return_val_if_fail (view != NULL, 0);
  return view->header_size;
}

/* Whether an empty line ended the header: see header.h. */
gboolean
ms_header_view_has_separator (const MsHeaderView *view)
{
  g_return_val_if_fail (view != NULL, FALSE);
  return view->has_separator;
}

/* Number of fields kept (at most MS_HEADER_MAX_FIELDS). */
guint
ms_header_view_get_n_fields (const MsHeaderView *view)
{
  g_return_val_if_fail (view != NULL, 0);
  return view->n_fields;
}

/* Name of field @i as written, valid UTF-8. Transfer none. */
const char *
ms_header_view_get_name (const MsHeaderView *view, guint i)
{
  g_return_val_if_fail (view != NULL && i < view->n_fields, NULL);
  return field_at (view, i)->name;
}

/* The raw value of @f, checked on first use. The view is const to its
 * users: what is done later changes nothing they can see. */
static const char *
field_raw (MsField *f)
{
  if (f->raw != NULL)
    return f->raw;
  if (is_clean (f->text, f->text_len))
    f->raw = f->text;
  else
    {
      f->raw = clean_value (f->text, f->text_len);
      f->owns |= OWNS_RAW;
    }
  return f->raw;
}

/* The decoded value of @f, decoding it on first use. */
static const char *
field_value (MsField *f)
{
  const char *raw;
  char *v;

  if (f->value != NULL)
    return f->value;
  raw = field_raw (f);
  if (strstr (raw, "=?") == NULL && strchr (raw, '\r') == NULL)
    {
      /* both decoders give back such a value as it is */
      f->value = raw;
      return f->value;
    }
  v = is_address_field (f->name) ? decode_address_list (raw) : ms_rfc2047_decode (raw);
  /* a bare CR survives unfolding; in a decoded value it is only a trap */
  g_strdelimit (v, "\r", ' ');
  f->value = v;
  f->owns |= OWNS_VALUE;
  return f->value;
}

/* Decoded value of field @i. Transfer none. */
const char *
ms_header_view_get_value (const MsHeaderView *view, guint i)
{
  g_return_val_if_fail (view != NULL && i < view->n_fields, NULL);
  return field_value (field_at (view, i));
}

/* Undecoded value of field @i. Transfer none. */
const char *
ms_header_view_get_raw (const MsHeaderView *view, guint i)
{
  g_return_val_if_fail (view != NULL && i < view->n_fields, NULL);
  return field_raw (field_at (view, i));
}

/* Decoded values of every field named @name, any case, in order: see
 * header.h. Transfer none. */
const char *const *
ms_header_view_lookup (const MsHeaderView *view, const char *name)
{
  guint slot;
  MsFieldName *n;

  g_return_val_if_fail (view != NULL && name != NULL, NULL);
  slot = find_slot (view, name, name_hash (name));
  if (view->slots[slot] == 0)
    return NULL;
  n = &view->names[view->slots[slot] - 1];
  if (n->values == NULL)
    {
      guint k = 0;

      n->values = g_new (const char *, n->count + 1);
      for (guint i = n->first; i != G_MAXUINT; i = field_at (view, i)->next)
        n->values[k++] = field_value (field_at (view, i));
      n->values[k] = NULL;
    }
  return n->values;
}

/* The first decoded value of @name (any case), or NULL. Transfer none. */
const char *
ms_header_view_get_first (const MsHeaderView *view, const char *name)
{
  const char *const *values = ms_header_view_lookup (view, name);

  return values ? values[0] : NULL;
}
