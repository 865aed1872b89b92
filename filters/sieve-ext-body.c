/* mailsift Sieve engine - body (RFC 5173):
 *
 *   body [COMPARATOR] [MATCH-TYPE] [:raw / :content <types> / :text] <keys>
 *
 * :raw matches the undecoded body after the header as one string; :text
 * (the default) each text part, transfer-decoded, in UTF-8, HTML turned
 * into plain text; :content the parts of the listed types, decoded (a
 * multipart: its prologue and epilogue; a message/rfc822 part: the
 * header of the enclosed message). Each part is one value, of which at
 * most MS_MIME_MAX_PART_TEXT bytes are examined. The parts come from
 * sieve-mime.c, read from the message file when the test runs: with only
 * the header at hand the test is a runtime error, never a silent false. */
#include "sieve-core.h"

#include "sieve-mime.h"

#include <string.h>

enum {
  TAG_RAW = MS_SV_TAG_OWN,
  TAG_CONTENT,
  TAG_TEXT,
};

static gboolean
validate_body (MsSvValidator *v, MsSvNode *node)
{
  const MsSvArg *types = node->tagval[TAG_CONTENT];

  ms_sv_validator_script (v)->needs_body = TRUE;
  for (guint i = 0; ms_sv_node_has_tag (node, TAG_CONTENT) && i < types->strings->len; i++)
    {
      const MsSvStr *t = ms_sv_arg_str (types, i);
      if (!t->vars && (t->str[0] == '/' || (t->len > 0 && t->str[t->len - 1] == '/')
                       || (strchr (t->str, '/') && strchr (t->str, '/') != strrchr (t->str, '/'))))
        ms_sv_validator_warning (v, node, types, "content type \"%s\" matches no part (RFC 5173 5.2)", t->str);
    }
  return ms_sv_validate_match (v, node, node->pos[0]);
}

/* RFC 5173 5.2: "" any type; "type" any subtype of it; "type/subtype"
 * exactly; a type with a leading or trailing '/' or two of them none. */
static gboolean
type_wanted (const char *const *types, const MsMimePart *part)
{
  for (guint i = 0; types[i]; i++)
    {
      const char *t = types[i], *slash = strchr (t, '/');
      gsize len = strlen (t);
      if (len == 0)
        return TRUE;
      if (t[0] == '/' || t[len - 1] == '/' || (slash && strchr (slash + 1, '/')))
        continue;
      if (slash == NULL && g_ascii_strcasecmp (t, part->type) == 0)
        return TRUE;
      if (slash && (gsize) (slash - t) == strlen (part->type)
          && g_ascii_strncasecmp (t, part->type, slash - t) == 0
          && g_ascii_strcasecmp (slash + 1, part->subtype) == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
match_string (MsSvRun *run, MsSvMatching *st, const char *s)
{
  g_autofree char *valid = NULL;
  gsize len;

  if (s == NULL)
    return FALSE;
  len = MIN (strlen (s), MS_MIME_MAX_PART_TEXT);
  valid = g_utf8_make_valid (s, len);
  return ms_sv_match_value (run, st, valid, strlen (valid));
}

static gboolean
match_bytes (MsSvRun *run, MsSvMatching *st, GBytes *bytes)
{
  gsize len;
  const char *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  return bytes && ms_sv_match_value (run, st, data ? data : "", data ? len : 0);
}

/* One part under :content: TRUE when the test is decided. */
static gboolean
match_content (MsSvRun *run, MsSvMatching *st, const MsMimePart *part)
{
  switch (part->kind)
    {
    case MS_MIME_PART_MULTIPART:
      {
        GMimeMultipart *mp = GMIME_MULTIPART (part->object);
        return match_string (run, st, g_mime_multipart_get_prologue (mp))
               || match_string (run, st, g_mime_multipart_get_epilogue (mp));
      }
    case MS_MIME_PART_MESSAGE:
      {
        GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (part->object));
        g_autofree char *fields = inner ? g_mime_object_get_headers (GMIME_OBJECT (inner), NULL) : NULL;
        return match_string (run, st, fields);
      }
    case MS_MIME_PART_LEAF:
      {
        g_autoptr (GBytes) content = ms_mime_part_content (part, ms_mime_part_is_text (part), FALSE);
        return match_bytes (run, st, content);
      }
    }
  return FALSE;
}

static int
test_body (MsSvRun *run, const MsSvNode *node)
{
  MsSvMatching st;
  MsMime *mime;

  ms_sv_match_begin (run, &st, node->data);
  /* RFC 5173 6: wildcards of body set no match variables */
  st.no_captures = TRUE;
  if (ms_sv_node_has_tag (node, TAG_RAW))
    {
      g_autoptr (GBytes) raw = NULL;
      if (!ms_sv_message_raw_body (run, node, &raw))
        return -1;
      if (raw == NULL)
        return 0; /* a header without an empty line after it: no body */
      if (match_bytes (run, &st, raw))
        return 1;
      return ms_sv_match_end (run, &st);
    }
  if ((mime = ms_sv_mime_get (run, node)) == NULL)
    return -1;
  if (!ms_header_view_has_separator (run->view))
    return 0;
  if (ms_sv_node_has_tag (node, TAG_CONTENT))
    {
      const char *const *types = ms_sv_expand_list (run, node->tagval[TAG_CONTENT]);
      for (guint i = 0; i < mime->parts->len; i++)
        {
          const MsMimePart *part = mime->parts->pdata[i];
          if (type_wanted (types, part) && match_content (run, &st, part))
            return 1;
        }
      return ms_sv_match_end (run, &st);
    }
  for (guint i = 0; i < mime->parts->len; i++)
    {
      const MsMimePart *part = mime->parts->pdata[i];
      g_autoptr (GBytes) text = NULL;
      if (!ms_mime_part_is_text (part))
        continue;
      text = ms_mime_part_content (part, TRUE, TRUE);
      if (match_bytes (run, &st, text))
        return 1;
    }
  return ms_sv_match_end (run, &st);
}

static const MsSvTagDef transform_tags[] = {
  { "raw", TAG_RAW, 0, "transform", NULL },
  { "content", TAG_CONTENT, 'l', "transform", NULL },
  { "text", TAG_TEXT, 0, "transform", NULL },
  { NULL },
};
static const MsSvTagDef *const body_tags[] = { ms_sv_tags_match, transform_tags, NULL };
static const MsSvDef def_body = { "body", MS_SV_TEST, "l", body_tags, 0, FALSE, validate_body, NULL, test_body };
static const MsSvDef *const defs[] = { &def_body, NULL };
const MsSvExtension ms_sv_ext_body = { "body", defs };
