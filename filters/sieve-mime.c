/* mailsift Sieve engine - the message's MIME structure for a run (see
 * sieve-mime.h): parsed at the first test that needs it, and the header
 * views and values of the mime extension's :mime tag. */
#include "sieve-mime.h"

#include "sieve-core.h"

#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentDisposition, g_object_unref)

MsMime *
ms_sv_mime_get (MsSvRun *run, const MsSvNode *node)
{
  const char *path = run->req->message_path;
  g_autoptr (GError) error = NULL;
  MsMime *m;

  if (run->mime)
    return run->mime;
  if (path == NULL)
    {
      ms_sv_run_error (run, node, "%s needs the whole message (only its header is at hand)",
                       strcmp (node->name, "body") == 0 ? "body test" : node->name);
      return NULL;
    }
  if ((m = ms_mime_open (path, &error)) == NULL)
    {
      ms_sv_run_error (run, node, "%s", error->message);
      return NULL;
    }
  if (m->parts->len >= MS_MIME_MAX_PARTS)
    ms_sv_run_warning (run, node, "the message has more than %d MIME parts; only the first %d are looked at",
                       MS_MIME_MAX_PARTS, MS_MIME_MAX_PARTS);
  ms_sv_run_trace (run, "line %u: message parsed: %u MIME parts", node->line, m->parts->len);
  run->mime = m;
  return m;
}

MsHeaderView *
ms_sv_part_view (MsSvRun *run, MsMimePart *part)
{
  MsHeaderView *view = ms_mime_part_view (part);

  return view ? view : run->view;
}

gboolean
ms_sv_message_raw_body (MsSvRun *run, const MsSvNode *node, GBytes **body_out)
{
  const char *path = run->req->message_path;
  g_autoptr (GError) error = NULL;

  *body_out = NULL;
  if (path == NULL)
    {
      ms_sv_run_error (run, node, "body test needs the whole message (only its header is at hand)");
      return FALSE;
    }
  if (!ms_mime_raw_body (path, body_out, &error))
    {
      ms_sv_run_error (run, node, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------- :mime */

gboolean
ms_sv_mime_views (MsSvRun *run, const MsSvNode *node, GPtrArray *views)
{
  MsMime *mime;
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
  ms_mime_init (); /* also outside foreverypart, before any body was read */
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
