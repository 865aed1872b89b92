#include "header.h"

#include "address.h"
#include "rfc2047.h"

#include <string.h>

/* The header view is what Sieve tests see, so it has to be both forgiving
 * (real mail is full of broken headers) and safe: every byte is read
 * through explicit lengths, never through assumed terminators, because the
 * input comes straight from the network. */

#define REPLACEMENT_CHAR "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

typedef struct
{
  char *name;  /* as written, valid UTF-8 */
  char *raw;   /* unfolded, trimmed, NUL-free, valid UTF-8 */
  char *value; /* raw with RFC 2047 decoded, no CR/LF */
} MsField;

struct _MsHeaderView
{
  GPtrArray *fields;   /* of MsField, in arrival order */
  GHashTable *by_name; /* lower-cased name -> GPtrArray of values (not owned), NULL-terminated */
  gsize header_size;
  gboolean has_separator;
};

static void
ms_field_free (MsField *f)
{
  g_free (f->name);
  g_free (f->raw);
  g_free (f->value);
  g_free (f);
}

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

/* Trimmed copy of [s, s+n) with NULs replaced and made valid UTF-8. */
static char *
clean_value (const char *s, gsize n)
{
  g_autoptr (GString) tmp = NULL;

  while (n > 0 && (*s == ' ' || *s == '\t'))
    s++, n--;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
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

static void
add_field (MsHeaderView *view, const GString *name, const GString *value)
{
  MsField *f = g_new0 (MsField, 1);
  g_autofree char *key = NULL;
  GPtrArray *values;

  f->name = g_utf8_make_valid (name->str, (gssize) name->len);
  f->raw = clean_value (value->str, value->len);
  f->value = is_address_field (f->name) ? decode_address_list (f->raw) : ms_rfc2047_decode (f->raw);
  /* a bare CR survives unfolding; in a decoded value it is only a trap */
  g_strdelimit (f->value, "\r", ' ');
  g_ptr_array_add (view->fields, f);

  key = g_ascii_strdown (f->name, -1);
  values = g_hash_table_lookup (view->by_name, key);
  if (values == NULL)
    {
      values = g_ptr_array_new ();
      g_hash_table_insert (view->by_name, g_steal_pointer (&key), values);
    }
  g_ptr_array_add (values, f->value);
}

/* Add the field being collected, if any, and forget it. */
static void
flush_field (MsHeaderView *view, GString **name, GString **value)
{
  if (*name == NULL)
    return;
  add_field (view, *name, *value);
  g_string_free (g_steal_pointer (name), TRUE);
  g_string_free (g_steal_pointer (value), TRUE);
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

/* Parse the header block at the start of @data: see header.h. */
MsHeaderView *
ms_header_view_new (const char *data, gsize len)
{
  MsHeaderView *view;
  g_autoptr (GString) name = NULL;  /* the field being collected, if any */
  g_autoptr (GString) value = NULL; /* its value so far, unfolded */
  gsize limit = MIN (len, MS_HEADER_MAX_BYTES);
  gsize pos = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  view = g_new0 (MsHeaderView, 1);
  view->fields = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_field_free);
  view->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);

  while (pos < limit)
    {
      const char *line = data + pos;
      const char *lf = memchr (line, '\n', limit - pos);
      const char *colon;
      gsize n, next;

      /* a line cut by MS_HEADER_MAX_BYTES belongs to the body: a field
       * truncated at an arbitrary byte would only mislead a filter */
      if (lf == NULL && limit < len)
        break;
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
          if (value != NULL)
            g_string_append_len (value, line, n);
          pos = next;
          continue;
        }

      flush_field (view, &name, &value);

      colon = memchr (line, ':', n);
      if (!(pos == 0 && n >= 5 && memcmp (line, "From ", 5) == 0) && colon != NULL
          && is_field_name (line, (gsize) (colon - line)) && view->fields->len < MS_HEADER_MAX_FIELDS)
        {
          name = g_string_new_len (line, colon - line);
          value = g_string_new_len (colon + 1, (gssize) (n - (gsize) (colon + 1 - line)));
        }
      pos = next;
    }
  flush_field (view, &name, &value);
  view->header_size = pos;

  /* lookup() hands out the value arrays as NULL-terminated vectors */
  {
    GHashTableIter iter;
    gpointer arr;

    g_hash_table_iter_init (&iter, view->by_name);
    while (g_hash_table_iter_next (&iter, NULL, &arr))
      g_ptr_array_add (arr, NULL);
  }
  return view;
}

/* Free @view and every string it handed out. NULL is fine. */
void
ms_header_view_free (MsHeaderView *view)
{
  if (view == NULL)
    return;
  g_ptr_array_unref (view->fields);
  g_hash_table_unref (view->by_name);
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
  return view->fields->len;
}

static const MsField *
field_at (const MsHeaderView *view, guint i)
{
  return g_ptr_array_index (view->fields, i);
}

/* Name of field @i as written, valid UTF-8. Transfer none. */
const char *
ms_header_view_get_name (const MsHeaderView *view, guint i)
{
  g_return_val_if_fail (view != NULL && i < view->fields->len, NULL);
  return field_at (view, i)->name;
}

/* Decoded value of field @i. Transfer none. */
const char *
ms_header_view_get_value (const MsHeaderView *view, guint i)
{
  g_return_val_if_fail (view != NULL && i < view->fields->len, NULL);
  return field_at (view, i)->value;
}

/* Undecoded value of field @i. Transfer none. */
const char *
ms_header_view_get_raw (const MsHeaderView *view, guint i)
{
  g_return_val_if_fail (view != NULL && i < view->fields->len, NULL);
  return field_at (view, i)->raw;
}

/* Decoded values of every field named @name, any case, in order: see
 * header.h. Transfer none. */
const char *const *
ms_header_view_lookup (const MsHeaderView *view, const char *name)
{
  g_autofree char *key = NULL;
  GPtrArray *values;

  g_return_val_if_fail (view != NULL && name != NULL, NULL);
  key = g_ascii_strdown (name, -1);
  values = g_hash_table_lookup (view->by_name, key);
  return values ? (const char *const *) values->pdata : NULL;
}

/* The first decoded value of @name (any case), or NULL. Transfer none. */
const char *
ms_header_view_get_first (const MsHeaderView *view, const char *name)
{
  const char *const *values = ms_header_view_lookup (view, name);

  return values ? values[0] : NULL;
}
