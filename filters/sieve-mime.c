/* mailsift Sieve engine - the message's MIME structure (see
 * sieve-mime.h): GMime over the message file, the flattened part list,
 * bounded decoding of a part's content, and the header views and values
 * of the mime extension's :mime tag. */
#include "sieve-mime.h"

#include "sieve-core.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* GMime 3.2 declares no autoptr cleanups for its GObjects. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFilter, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentDisposition, g_object_unref)

static void
part_free (gpointer data)
{
  MsSvPart *p = data;

  g_free (p->type);
  g_free (p->subtype);
  if (p->view)
    ms_header_view_free (p->view);
  g_free (p);
}

void
ms_sv_mime_free (MsSvMime *mime)
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
add_part (MsSvMime *m, GMimeObject *object, GMimeObject *fields)
{
  MsSvPart *p;
  GMimeContentType *ct = object ? g_mime_object_get_content_type (object) : NULL;
  const char *type = ct ? g_mime_content_type_get_media_type (ct) : NULL;
  const char *subtype = ct ? g_mime_content_type_get_media_subtype (ct) : NULL;

  if (m->parts->len >= MS_SV_MAX_PARTS)
    return;
  p = g_new0 (MsSvPart, 1);
  p->index = m->parts->len;
  p->object = object;
  p->fields = fields;
  p->type = g_ascii_strdown (type ? type : "text", -1);
  p->subtype = g_ascii_strdown (subtype ? subtype : "plain", -1);
  g_ptr_array_add (m->parts, p);
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *mp = GMIME_MULTIPART (object);
      p->kind = MS_SV_PART_MULTIPART;
      for (int i = 0; i < g_mime_multipart_get_count (mp); i++)
        {
          GMimeObject *child = g_mime_multipart_get_part (mp, i);
          add_part (m, child, child);
        }
    }
  else if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));
      p->kind = MS_SV_PART_MESSAGE;
      if (inner)
        add_part (m, g_mime_message_get_mime_part (inner), GMIME_OBJECT (inner));
    }
  else
    p->kind = MS_SV_PART_LEAF;
  p->end = m->parts->len;
}

/* GMime needs g_mime_init before any of its parsers runs. */
static void
ensure_gmime (void)
{
  static gboolean ready;

  if (!ready)
    {
      g_mime_init ();
      ready = TRUE;
    }
}

MsSvMime *
ms_sv_mime_get (MsSvRun *run, const MsSvNode *node)
{
  const char *path = run->req->message_path;
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeParser) parser = NULL;
  MsSvMime *m;
  char start[5] = { 0 };
  gint64 skip = 0;
  int fd;

  if (run->mime)
    return run->mime;
  if (path == NULL)
    {
      ms_sv_run_error (run, node, "%s needs the whole message (only its header is at hand)",
                       strcmp (node->name, "body") == 0 ? "body test" : node->name);
      return NULL;
    }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      ms_sv_run_error (run, node, "cannot read the message %s: %s", path, g_strerror (errno));
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
  ensure_gmime ();
  stream = g_mime_stream_fs_new_with_bounds (fd, skip, -1); /* owns fd */
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  g_mime_parser_set_persist_stream (parser, TRUE);
  m = g_new0 (MsSvMime, 1);
  m->parts = g_ptr_array_new_with_free_func (part_free);
  m->message = g_mime_parser_construct_message (parser, NULL);
  m->stream = g_steal_pointer (&stream);
  add_part (m, m->message ? g_mime_message_get_mime_part (m->message) : NULL, NULL);
  if (m->parts->len >= MS_SV_MAX_PARTS)
    ms_sv_run_warning (run, node, "the message has more than %d MIME parts; only the first %d are looked at",
                       MS_SV_MAX_PARTS, MS_SV_MAX_PARTS);
  ms_sv_run_trace (run, "line %u: message parsed: %u MIME parts", node->line, m->parts->len);
  run->mime = m;
  return m;
}

MsHeaderView *
ms_sv_part_view (MsSvRun *run, MsSvPart *part)
{
  g_autofree char *text = NULL;

  if (part->fields == NULL)
    return run->view;
  if (part->view == NULL)
    {
      text = g_mime_object_get_headers (part->fields, NULL);
      part->view = ms_header_view_new (text ? text : "", text ? strlen (text) : 0);
    }
  return part->view;
}

gboolean
ms_sv_part_is_text (const MsSvPart *part)
{
  return part->kind == MS_SV_PART_LEAF && strcmp (part->type, "text") == 0;
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
ms_sv_part_content (const MsSvPart *part, gboolean text, gboolean plain)
{
  GMimeDataWrapper *w;
  GMimeStream *source;
  g_autoptr (GMimeStream) filtered = NULL;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  GMimeContentEncoding enc;
  const char *charset;
  gboolean cut = FALSE;
  char buf[16384];

  if (part->kind != MS_SV_PART_LEAF)
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
  while (out->len < MS_SV_MAX_PART_TEXT)
    {
      ssize_t n = g_mime_stream_read (filtered, buf, MIN (sizeof buf, MS_SV_MAX_PART_TEXT - out->len));
      if (n <= 0)
        break;
      g_byte_array_append (out, (const guint8 *) buf, n);
    }
  cut = out->len >= MS_SV_MAX_PART_TEXT;
  g_mime_stream_reset (source); /* leave it as found */
  if (!text)
    return g_byte_array_free_to_bytes (g_steal_pointer (&out));
  if (plain && strcmp (part->subtype, "html") == 0)
    {
      g_autofree char *plain_text = ms_sv_html_to_text ((const char *) out->data, out->len);
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
ms_sv_html_to_text (const char *html, gsize len)
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
ms_sv_message_raw_body (MsSvRun *run, const MsSvNode *node, GBytes **body_out)
{
  const char *path = run->req->message_path;
  g_autofree char *buf = NULL;
  guint64 offset = 0, body = 0;
  int state = 1; /* 1: at a line start, 2: after a line start and CR */
  gboolean found = FALSE;
  ssize_t n;
  gsize got = 0;
  int fd;

  *body_out = NULL;
  if (path == NULL)
    {
      ms_sv_run_error (run, node, "body test needs the whole message (only its header is at hand)");
      return FALSE;
    }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      ms_sv_run_error (run, node, "cannot read the message %s: %s", path, g_strerror (errno));
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
  buf = g_realloc (buf, MS_SV_MAX_PART_TEXT);
  while (got < MS_SV_MAX_PART_TEXT && (n = pread (fd, buf + got, MS_SV_MAX_PART_TEXT - got, body + got)) > 0)
    got += n;
  close (fd);
  *body_out = g_bytes_new_take (g_steal_pointer (&buf), got);
  return TRUE;
}

/* ---------------------------------------------------------------- :mime */

gboolean
ms_sv_mime_views (MsSvRun *run, const MsSvNode *node, GPtrArray *views)
{
  MsSvMime *mime;
  guint from, to;

  g_ptr_array_set_size (views, 0);
  if (!ms_sv_node_has_tag (node, MS_SV_TAG_MIME))
    {
      g_ptr_array_add (views, run->view);
      return TRUE;
    }
  if (!ms_sv_node_has_tag (node, MS_SV_TAG_ANYCHILD))
    {
      g_ptr_array_add (views, run->part ? ms_sv_part_view (run, run->part) : run->view);
      return TRUE;
    }
  if ((mime = ms_sv_mime_get (run, node)) == NULL)
    return FALSE;
  from = run->part ? run->part->index : 0;
  to = run->part ? run->part->end : mime->parts->len;
  for (guint i = from; i < to; i++)
    g_ptr_array_add (views, ms_sv_part_view (run, mime->parts->pdata[i]));
  return TRUE;
}

gboolean
ms_sv_mime_match_option (MsSvRun *run, MsSvMatching *st, const MsSvNode *node, const char *name,
                         const char *value)
{
  gboolean ctype = g_ascii_strcasecmp (name, "content-type") == 0;
  gboolean disp = g_ascii_strcasecmp (name, "content-disposition") == 0;
  g_autoptr (GMimeContentType) ct = NULL;
  g_autoptr (GMimeContentDisposition) cd = NULL;
  g_autofree char *full = NULL;
  const char *v = "";

  if (!ctype && !disp)
    return ms_sv_match_value (run, st, "", 0);
  ensure_gmime (); /* also outside foreverypart, before any body was read */
  if (ctype)
    ct = g_mime_content_type_parse (NULL, value);
  else
    cd = g_mime_content_disposition_parse (NULL, value);
  if (ms_sv_node_has_tag (node, MS_SV_TAG_MIME_PARAM))
    {
      const char *const *params = ms_sv_expand_list (run, node->tagval[MS_SV_TAG_MIME_PARAM]);
      for (guint i = 0; params[i]; i++)
        {
          const char *pv = ct ? g_mime_content_type_get_parameter (ct, params[i])
                              : cd ? g_mime_content_disposition_get_parameter (cd, params[i]) : NULL;
          if (pv && ms_sv_match_value (run, st, pv, strlen (pv)))
            return TRUE;
        }
      return FALSE;
    }
  if (ct && ms_sv_node_has_tag (node, MS_SV_TAG_MIME_TYPE))
    v = g_mime_content_type_get_media_type (ct);
  else if (ct && ms_sv_node_has_tag (node, MS_SV_TAG_MIME_SUBTYPE))
    v = g_mime_content_type_get_media_subtype (ct);
  else if (ct)
    v = full = g_strdup_printf ("%s/%s", g_mime_content_type_get_media_type (ct),
                                g_mime_content_type_get_media_subtype (ct));
  else if (cd && !ms_sv_node_has_tag (node, MS_SV_TAG_MIME_SUBTYPE))
    v = g_mime_content_disposition_get_disposition (cd);
  if (v == NULL)
    v = "";
  return ms_sv_match_value (run, st, v, strlen (v));
}
