/* mailsift message model - header edits on the raw header block (see
 * header-edit.h), for Sieve editheader and for delivery. */
#include "header-edit.h"

#include <string.h>

/* RFC 5322 2.1.1: lines SHOULD stay within 78 characters and MUST within
 * 998. */
#define FOLD_AT 78
#define LINE_MAX_CHARS 998
/* RFC 2047 2: "=?utf-8?q?" + text + "?=" is at most 75 characters. */
#define ENCODED_TEXT_MAX (75 - 12)

MsHeaderEdit *
ms_header_edit_new (MsHeaderEditKind kind, const char *name, const char *value, gboolean last, guint index)
{
  MsHeaderEdit *e = g_new0 (MsHeaderEdit, 1);

  e->kind = kind;
  e->name = g_strdup (name);
  e->value = g_strdup (value ? value : "");
  e->last = last;
  e->index = index;
  return e;
}

void
ms_header_edit_free (MsHeaderEdit *e)
{
  if (e == NULL)
    return;
  g_free (e->name);
  g_free (e->value);
  g_free (e);
}

gboolean
ms_header_field_name_is_valid (const char *name, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) name[i] < 33 || (guchar) name[i] > 126 || name[i] == ':')
      return FALSE;
  return TRUE;
}

gboolean
ms_header_field_is_protected (const char *name)
{
  static const char *const protected[] = { "Received", "Auto-Submitted", "X-Mailsift-Redirected" };

  for (gsize i = 0; i < G_N_ELEMENTS (protected); i++)
    if (g_ascii_strcasecmp (name, protected[i]) == 0)
      return TRUE;
  return FALSE;
}

/* ---------------------------------------------------------------- encoding */

static gboolean
is_wsp (char c)
{
  return c == ' ' || c == '\t';
}

/* A byte a header cannot carry as it is. */
static gboolean
needs_encoding (guchar c)
{
  return c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Q encoding (RFC 2047 4.2), keeping only what 5(3) allows everywhere. */
static gsize
q_cost (guchar c)
{
  return g_ascii_isalnum (c) || strchr ("!*+-/ ", c) ? 1 : 3;
}

static void
q_append (GString *out, guchar c)
{
  if (c == ' ')
    g_string_append_c (out, '_');
  else if (q_cost (c) == 1)
    g_string_append_c (out, (char) c);
  else
    g_string_append_printf (out, "=%02X", c);
}

/* @text (valid UTF-8) as encoded words, each within 75 characters and
 * never splitting a character, added to @words. Q, which stays readable,
 * unless it would be half as long again as B (text in a non-Latin
 * script). */
static void
encode_words (const char *text, gsize len, GPtrArray *words)
{
  gsize q_total = 0;
  gboolean use_b;
  const char *p = text, *end = text + len;

  for (gsize i = 0; i < len; i++)
    q_total += q_cost ((guchar) text[i]);
  use_b = q_total * 2 > (len + 2) / 3 * 4 * 3;
  while (p < end)
    {
      g_autoptr (GString) word = g_string_new (use_b ? "=?utf-8?b?" : "=?utf-8?q?");
      const char *start = p;
      gsize cost = 0;

      while (p < end)
        {
          const char *next = g_utf8_next_char (p);
          gsize c = 0;
          if (next > end)
            next = end;
          if (use_b)
            c = (gsize) (next - start + 2) / 3 * 4 - cost;
          else
            for (const char *b = p; b < next; b++)
              c += q_cost ((guchar) *b);
          if (cost + c > ENCODED_TEXT_MAX && p > start)
            break;
          cost += c;
          p = next;
        }
      if (use_b)
        {
          g_autofree char *b64 = g_base64_encode ((const guchar *) start, (gsize) (p - start));
          g_string_append (word, b64);
        }
      else
        for (const char *b = start; b < p; b++)
          q_append (word, (guchar) *b);
      g_string_append (word, "?=");
      g_ptr_array_add (words, g_string_free (g_steal_pointer (&word), FALSE));
    }
}

/* The value with its line breaks turned into single spaces and the white
 * space around it trimmed. */
static char *
unbreak (const char *s, gsize len)
{
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      if (s[i] == '\r' || s[i] == '\n')
        {
          while (out->len > 0 && is_wsp (out->str[out->len - 1]))
            g_string_truncate (out, out->len - 1);
          while (i + 1 < len && (is_wsp (s[i + 1]) || s[i + 1] == '\r' || s[i + 1] == '\n'))
            i++;
          g_string_append_c (out, ' ');
          continue;
        }
      g_string_append_c (out, s[i]);
    }
  return g_strstrip (g_string_free (out, FALSE));
}

char *
ms_header_value_encode (const char *value, gsize len, gsize name_len, const char **why_out)
{
  g_autofree char *plain = NULL, *valid = NULL;
  g_autoptr (GPtrArray) seps = g_ptr_array_new_with_free_func (g_free);  /* white space before each token */
  g_autoptr (GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);
  GString *out;
  gsize col;
  const char *p;

  if (memchr (value, '\0', len) != NULL)
    {
      *why_out = "it contains a NUL character";
      return NULL;
    }
  if (len > MS_HEADER_EDIT_MAX_VALUE)
    {
      *why_out = "it is longer than 2048 bytes";
      return NULL;
    }
  if (name_len + 2 + 75 > LINE_MAX_CHARS)
    {
      *why_out = "the field name is too long";
      return NULL;
    }
  valid = g_utf8_make_valid (value, (gssize) len);
  plain = unbreak (valid, strlen (valid));

  /* words, with runs of words that must be encoded (and the white space
   * between them) turned into encoded words */
  p = plain;
  while (*p)
    {
      const char *ws = p, *word, *run_end;
      gboolean enc = FALSE;

      while (is_wsp (*p))
        p++;
      word = p;
      while (*p && !is_wsp (*p))
        enc |= needs_encoding ((guchar) *p++);
      enc |= name_len + 2 + (gsize) (p - word) > LINE_MAX_CHARS;
      if (!enc)
        {
          g_ptr_array_add (seps, g_strndup (ws, (gsize) (word - ws)));
          g_ptr_array_add (tokens, g_strndup (word, (gsize) (p - word)));
          continue;
        }
      /* extend the run over the following words that need it too */
      run_end = p;
      for (;;)
        {
          const char *q = run_end, *w;
          gboolean more = FALSE;
          while (is_wsp (*q))
            q++;
          w = q;
          while (*q && !is_wsp (*q))
            more |= needs_encoding ((guchar) *q++);
          more |= name_len + 2 + (gsize) (q - w) > LINE_MAX_CHARS;
          if (q == w || !more)
            break;
          run_end = q;
        }
      {
        guint first = tokens->len;
        encode_words (word, (gsize) (run_end - word), tokens);
        for (guint i = first; i < tokens->len; i++)
          g_ptr_array_add (seps, i == first ? g_strndup (ws, (gsize) (word - ws)) : g_strdup (" "));
      }
      p = run_end;
    }

  /* fold before a token that would run past the line */
  out = g_string_new (NULL);
  col = name_len + 2;
  for (guint i = 0; i < tokens->len; i++)
    {
      const char *sep = i == 0 ? "" : seps->pdata[i];
      gsize n = strlen (sep) + strlen (tokens->pdata[i]);
      if (i > 0 && col + n > FOLD_AT)
        {
          g_string_append_c (out, '\n');
          col = 0;
        }
      g_string_append (out, sep);
      g_string_append (out, tokens->pdata[i]);
      col += n;
    }
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------- applying */

typedef struct {
  GString *text; /* the field's lines, or a line that is no field */
  char *name;    /* as written; NULL: no field */
} Unit;

static void
unit_free (Unit *u)
{
  g_string_free (u->text, TRUE);
  g_free (u->name);
  g_free (u);
}

struct _MsHeaderEditor {
  GPtrArray *units;   /* Unit*, in order */
  GString *tail;      /* the empty line that ends the header, if any */
  gboolean from_line; /* units[0] is an mbox "From " line */
};

static Unit *
unit_new (const char *text, gsize len, char *name)
{
  Unit *u = g_new0 (Unit, 1);

  u->text = g_string_new_len (text, (gssize) len);
  u->name = name;
  return u;
}

/* As header.c's is_field_name(), which decides what the view sees. */
static gboolean
view_field_name (const char *s, gsize n)
{
  if (n == 0)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if ((guchar) s[i] <= 0x20 || s[i] == 0x7f)
      return FALSE;
  return TRUE;
}

MsHeaderEditor *
ms_header_editor_new (const char *data, gsize len)
{
  MsHeaderEditor *ed = g_new0 (MsHeaderEditor, 1);
  gsize pos = 0;

  ed->units = g_ptr_array_new_with_free_func ((GDestroyNotify) unit_free);
  ed->tail = g_string_new (NULL);
  while (pos < len)
    {
      const char *line = data + pos;
      const char *lf = memchr (line, '\n', len - pos);
      gsize n = lf ? (gsize) (lf - line) : len - pos;
      gsize next = pos + n + (lf ? 1 : 0);
      const char *colon;

      if (n > 0 && line[n - 1] == '\r')
        n--;
      if (n == 0 && lf != NULL)
        {
          g_string_append_len (ed->tail, line, (gssize) (len - pos));
          break;
        }
      if ((line[0] == ' ' || line[0] == '\t') && ed->units->len > 0)
        {
          /* a continuation: part of the field (or the odd line) above */
          Unit *u = g_ptr_array_index (ed->units, ed->units->len - 1);
          g_string_append_len (u->text, line, (gssize) (next - pos));
        }
      else
        {
          char *name = NULL;
          colon = memchr (line, ':', n);
          if (pos == 0 && n >= 5 && memcmp (line, "From ", 5) == 0)
            ed->from_line = TRUE;
          else if (colon != NULL && view_field_name (line, (gsize) (colon - line)))
            name = g_strndup (line, (gsize) (colon - line));
          g_ptr_array_add (ed->units, unit_new (line, next - pos, name));
        }
      pos = next;
    }
  return ed;
}

void
ms_header_editor_free (MsHeaderEditor *ed)
{
  if (ed == NULL)
    return;
  g_ptr_array_unref (ed->units);
  g_string_free (ed->tail, TRUE);
  g_free (ed);
}

gboolean
ms_header_editor_apply (MsHeaderEditor *ed, const MsHeaderEdit *e)
{
  if (e->kind == MS_HEADER_EDIT_ADD)
    {
      guint at = e->last ? ed->units->len : ed->from_line ? 1 : 0;
      g_autoptr (GString) text = g_string_new (e->name);
      Unit *before = at > 0 ? g_ptr_array_index (ed->units, at - 1) : NULL;

      g_string_append_c (text, ':');
      if (*e->value)
        g_string_append_printf (text, " %s", e->value);
      g_string_append_c (text, '\n');
      /* a last line without its line end (a message that is all header)
       * gets one, or the new field would run into it */
      if (before && (before->text->len == 0 || before->text->str[before->text->len - 1] != '\n'))
        g_string_append_c (before->text, '\n');
      g_ptr_array_insert (ed->units, (gint) at, unit_new (text->str, text->len, g_strdup (e->name)));
      return TRUE;
    }
  for (guint i = 0, seen = 0; i < ed->units->len; i++)
    {
      Unit *u = g_ptr_array_index (ed->units, i);
      if (u->name && g_ascii_strcasecmp (u->name, e->name) == 0 && ++seen == e->index)
        {
          g_ptr_array_remove_index (ed->units, i);
          return TRUE;
        }
    }
  return FALSE;
}

GBytes *
ms_header_editor_get_bytes (const MsHeaderEditor *ed)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < ed->units->len; i++)
    {
      const Unit *u = g_ptr_array_index (ed->units, i);
      g_string_append_len (out, u->text->str, (gssize) u->text->len);
    }
  g_string_append_len (out, ed->tail->str, (gssize) ed->tail->len);
  return g_string_free_to_bytes (out);
}

GBytes *
ms_header_edits_apply (GBytes *header, gsize header_size, const GPtrArray *edits, guint n)
{
  gsize len;
  const char *data = g_bytes_get_data (header, &len);
  g_autoptr (MsHeaderEditor) ed = ms_header_editor_new (data, MIN (header_size, len));

  for (guint i = 0; i < n && i < edits->len; i++)
    ms_header_editor_apply (ed, edits->pdata[i]);
  return ms_header_editor_get_bytes (ed);
}
