/* mailsift message model - a message's MIME structure (see mime.h):
 * GMime over the message file, the flattened part list, bounded
 * decoding of a part's content to UTF-8, HTML to text, and the raw body.
 * Used by the Sieve engine's body and mime extensions. */
#include "mime.h"

#include "header.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* GMime 3.2 declares no autoptr cleanups for its GObjects. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFilter, g_object_unref)

static void
part_free (gpointer data)
{
  MsMimePart *p = data;

  g_free (p->type);
  g_free (p->subtype);
  if (p->view)
    ms_header_view_free (p->view);
  g_free (p);
}

void
ms_mime_free (MsMime *mime)
{
  if (mime == NULL)
    return;
  g_ptr_array_unref (mime->parts);
  g_clear_object (&mime->message);
  g_clear_object (&mime->stream);
  g_free (mime);
}

/* Add @object and everything below it, depth first. */
static void
add_part (MsMime *m, GMimeObject *object, GMimeObject *fields)
{
  MsMimePart *p;
  GMimeContentType *ct = object ? g_mime_object_get_content_type (object) : NULL;
  const char *type = ct ? g_mime_content_type_get_media_type (ct) : NULL;
  const char *subtype = ct ? g_mime_content_type_get_media_subtype (ct) : NULL;

  if (m->parts->len >= MS_MIME_MAX_PARTS)
    return;
  p = g_new0 (MsMimePart, 1);
  p->index = m->parts->len;
  p->object = object;
  p->fields = fields;
  p->type = g_ascii_strdown (type ? type : "text", -1);
  p->subtype = g_ascii_strdown (subtype ? subtype : "plain", -1);
  g_ptr_array_add (m->parts, p);
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *mp = GMIME_MULTIPART (object);
      p->kind = MS_MIME_PART_MULTIPART;
      for (int i = 0; i < g_mime_multipart_get_count (mp); i++)
        {
          GMimeObject *child = g_mime_multipart_get_part (mp, i);
          add_part (m, child, child);
        }
    }
  else if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));
      p->kind = MS_MIME_PART_MESSAGE;
      if (inner)
        add_part (m, g_mime_message_get_mime_part (inner), GMIME_OBJECT (inner));
    }
  else
    p->kind = MS_MIME_PART_LEAF;
  p->end = m->parts->len;
}

void
ms_mime_init (void)
{
  static gboolean ready;

  if (!ready)
    {
      g_mime_init ();
      ready = TRUE;
    }
}

MsMime *
ms_mime_open (const char *path, GError **error)
{
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeParser) parser = NULL;
  MsMime *m;
  char start[5] = { 0 };
  gint64 skip = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot read the message %s: %s",
                   path, g_strerror (saved));
      return NULL;
    }
  /* an mbox "From " line is not a header field (the header view skips
   * it too) */
  if (pread (fd, start, sizeof start, 0) == (ssize_t) sizeof start && memcmp (start, "From ", 5) == 0)
    {
      char c;
      for (skip = 5; pread (fd, &c, 1, skip) == 1 && c != '\n'; skip++)
        ;
      skip++;
    }
  ms_mime_init ();
  stream = g_mime_stream_fs_new_with_bounds (fd, skip, -1); /* owns fd */
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  g_mime_parser_set_persist_stream (parser, TRUE);
  m = g_new0 (MsMime, 1);
  m->parts = g_ptr_array_new_with_free_func (part_free);
  m->message = g_mime_parser_construct_message (parser, NULL);
  m->stream = g_steal_pointer (&stream);
  add_part (m, m->message ? g_mime_message_get_mime_part (m->message) : NULL, NULL);
  return m;
}

MsHeaderView *
ms_mime_part_view (MsMimePart *part)
{
  g_autofree char *text = NULL;

  if (part->fields == NULL)
    return NULL;
  if (part->view == NULL)
    {
      text = g_mime_object_get_headers (part->fields, NULL);
      part->view = ms_header_view_new (text ? text : "", text ? strlen (text) : 0);
    }
  return part->view;
}

gboolean
ms_mime_part_is_text (const MsMimePart *part)
{
  return part->kind == MS_MIME_PART_LEAF && strcmp (part->type, "text") == 0;
}

/* ---------------------------------------------------------------- content */

/* @len bytes of @s as valid UTF-8; with @cut, a character cut off at
 * the end (by the size limit) is dropped rather than replaced. */
static GBytes *
utf8_bytes (const char *s, gsize len, gboolean cut)
{
  char *valid;

  if (s == NULL || len == 0) /* an empty GByteArray has no data */
    return g_bytes_new (NULL, 0);
  if (cut)
    {
      gsize start = len - 1;
      while (start > 0 && len - start < 4 && ((guchar) s[start] & 0xc0) == 0x80)
        start--;
      if (g_utf8_get_char_validated (s + start, len - start) == (gunichar) -2)
        len = start;
    }
  valid = g_utf8_make_valid (s, len);
  return g_bytes_new_take (valid, strlen (valid));
}

static gboolean
is_utf8_name (const char *charset)
{
  return g_ascii_strcasecmp (charset, "utf-8") == 0 || g_ascii_strcasecmp (charset, "utf8") == 0
         || g_ascii_strcasecmp (charset, "us-ascii") == 0 || g_ascii_strcasecmp (charset, "ascii") == 0;
}

GBytes *
ms_mime_part_content (const MsMimePart *part, gboolean text, gboolean plain)
{
  GMimeDataWrapper *w;
  GMimeStream *source;
  g_autoptr (GMimeStream) filtered = NULL;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  GMimeContentEncoding enc;
  const char *charset;
  gboolean cut = FALSE;
  char buf[16384];

  if (part->kind != MS_MIME_PART_LEAF)
    return NULL;
  w = part->object ? g_mime_part_get_content (GMIME_PART (part->object)) : NULL;
  source = w ? g_mime_data_wrapper_get_stream (w) : NULL;
  if (source == NULL)
    return g_bytes_new (NULL, 0);
  filtered = g_mime_stream_filter_new (source);
  enc = g_mime_data_wrapper_get_encoding (w);
  if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
      || enc == GMIME_CONTENT_ENCODING_UUENCODE)
    {
      g_autoptr (GMimeFilter) decode = g_mime_filter_basic_new (enc, FALSE);
      g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), decode);
    }
  charset = text ? g_mime_object_get_content_type_parameter (part->object, "charset") : NULL;
  if (charset && !is_utf8_name (charset))
    {
      /* NULL when iconv does not know it: then read as UTF-8 */
      g_autoptr (GMimeFilter) convert = g_mime_filter_charset_new (charset, "UTF-8");
      if (convert)
        g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), convert);
    }
  g_mime_stream_reset (filtered);
  while (out->len < MS_MIME_MAX_PART_TEXT)
    {
      ssize_t n = g_mime_stream_read (filtered, buf, MIN (sizeof buf, MS_MIME_MAX_PART_TEXT - out->len));
      if (n <= 0)
        break;
      g_byte_array_append (out, (const guint8 *) buf, n);
    }
  cut = out->len >= MS_MIME_MAX_PART_TEXT;
  g_mime_stream_reset (source); /* leave it as found */
  if (!text)
    return g_byte_array_free_to_bytes (g_steal_pointer (&out));
  if (plain && strcmp (part->subtype, "html") == 0)
    {
      g_autofree char *plain_text = ms_mime_html_to_text ((const char *) out->data, out->len);
      return utf8_bytes (plain_text, strlen (plain_text), FALSE);
    }
  return utf8_bytes ((const char *) out->data, out->len, cut);
}

/* ---------------------------------------------------------------- html */

static const char *const block_tags[] = { "address", "article", "blockquote", "br", "div", "dl", "dt", "dd",
                                          "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p",
                                          "pre", "section", "table", "title", "tr", "ul", NULL };

static void
put_space (GString *out, char c)
{
  if (out->len == 0 || out->str[out->len - 1] == '\n')
    return;
  if (out->str[out->len - 1] == ' ')
    {
      if (c == '\n')
        out->str[out->len - 1] = '\n';
      return;
    }
  g_string_append_c (out, c);
}

/* A character reference at @p (after '&'): appends it and returns the
 * bytes used, or 0 when it is not one. */
static gsize
put_entity (GString *out, const char *p, const char *end)
{
  static const struct { const char *name; gunichar ch; } named[] = {
    { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' }, { "nbsp", ' ' },
    { "copy", 0xa9 }, { "reg", 0xae }, { "euro", 0x20ac }, { "hellip", 0x2026 }, { "mdash", 0x2014 },
    { "ndash", 0x2013 }, { "laquo", 0xab }, { "raquo", 0xbb },
  };
  const char *semi = memchr (p, ';', MIN ((gsize) (end - p), 12));
  gunichar ch = 0;

  if (semi == NULL || semi == p)
    return 0;
  if (*p == '#')
    {
      gboolean hex = p + 1 < semi && (p[1] == 'x' || p[1] == 'X');
      for (const char *d = p + (hex ? 2 : 1); d < semi; d++)
        {
          int v = hex ? g_ascii_xdigit_value (*d) : g_ascii_digit_value (*d);
          if (v < 0 || ch > 0x10ffff)
            return 0;
          ch = ch * (hex ? 16 : 10) + v;
        }
      if (ch == 0 || !g_unichar_validate (ch))
        ch = 0xfffd;
    }
  else
    {
      for (guint i = 0; i < G_N_ELEMENTS (named) && ch == 0; i++)
        if ((gsize) (semi - p) == strlen (named[i].name) && strncmp (p, named[i].name, semi - p) == 0)
          ch = named[i].ch;
      if (ch == 0)
        return 0;
    }
  if (ch == ' ')
    put_space (out, ' ');
  else
    g_string_append_unichar (out, ch);
  return semi - p + 1;
}

char *
ms_mime_html_to_text (const char *html, gsize len)
{
  GString *out;
  const char *p, *end;

  if (html == NULL || len == 0)
    return g_strdup ("");
  out = g_string_sized_new (len / 2);
  p = html;
  end = html + len;

  while (p < end)
    {
      if (*p == '<')
        {
          char name[16];
          gsize n = 0;
          gboolean closing = p + 1 < end && p[1] == '/';
          const char *q = p + (closing ? 2 : 1);
          const char *gt;

          if (end - p >= 4 && memcmp (p, "<!--", 4) == 0)
            {
              const char *stop = g_strstr_len (p + 4, end - p - 4, "-->");
              p = stop ? stop + 3 : end;
              continue;
            }
          while (q < end && g_ascii_isalnum (*q) && n < sizeof name - 1)
            name[n++] = g_ascii_tolower (*q++);
          name[n] = '\0';
          gt = memchr (q, '>', end - q);
          p = gt ? gt + 1 : end;
          if (!closing && (strcmp (name, "script") == 0 || strcmp (name, "style") == 0))
            {
              /* skip to the closing tag */
              g_autofree char *close = g_strdup_printf ("</%s", name);
              const char *s = p;
              while (s < end && g_ascii_strncasecmp (s, close, strlen (close)) != 0)
                s++;
              gt = s < end ? memchr (s, '>', end - s) : NULL;
              p = gt ? gt + 1 : end;
              continue;
            }
          if (g_strv_contains (block_tags, name))
            put_space (out, '\n');
          else if (strcmp (name, "td") == 0 || strcmp (name, "th") == 0)
            put_space (out, ' ');
          continue;
        }
      if (*p == '&')
        {
          gsize used = put_entity (out, p + 1, end);
          if (used)
            {
              p += used + 1;
              continue;
            }
        }
      if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        put_space (out, ' ');
      else
        g_string_append_c (out, *p);
      p++;
    }
  while (out->len > 0 && (out->str[out->len - 1] == ' ' || out->str[out->len - 1] == '\n'))
    g_string_truncate (out, out->len - 1);
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------- raw body */

gboolean
ms_mime_raw_body (const char *path, GBytes **body_out, GError **error)
{
  g_autofree char *buf = NULL;
  guint64 offset = 0, body = 0;
  int state = 1; /* 1: at a line start, 2: after a line start and CR */
  gboolean found = FALSE;
  ssize_t n;
  gsize got = 0;
  int fd;

  *body_out = NULL;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot read the message %s: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  buf = g_malloc (65536);
  /* the header ends at the first empty line (LF or CRLF) */
  while (!found && offset < MS_HEADER_MAX_BYTES && (n = read (fd, buf, 65536)) > 0)
    for (ssize_t i = 0; i < n && !found; i++, offset++)
      {
        char c = buf[i];
        if (c == '\n' && state != 0)
          found = TRUE, body = offset + 1;
        else if (c == '\n')
          state = 1;
        else if (c == '\r' && state == 1)
          state = 2;
        else
          state = 0;
      }
  if (!found)
    {
      close (fd);
      return TRUE;
    }
  buf = g_realloc (buf, MS_MIME_MAX_PART_TEXT);
  while (got < MS_MIME_MAX_PART_TEXT && (n = pread (fd, buf + got, MS_MIME_MAX_PART_TEXT - got, body + got)) > 0)
    got += n;
  close (fd);
  *body_out = g_bytes_new_take (g_steal_pointer (&buf), got);
  return TRUE;
}
