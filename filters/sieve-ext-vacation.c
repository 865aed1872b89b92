/* mailsift Sieve engine - vacation (RFC 5230) and vacation-seconds
 * (RFC 6131). The engine records what the script asked for; whether a
 * reply is really sent (RFC 3834: not to lists, bots, the null sender,
 * or mail not addressed to you; once per sender per period) is decided
 * by the agent, which holds the history. */
#include "sieve-core.h"

#include <string.h>

enum {
  TAG_DAYS = MS_SV_TAG_OWN,
  TAG_SECONDS,
  TAG_SUBJECT,
  TAG_FROM,
  TAG_ADDRESSES,
  TAG_MIME,
  TAG_HANDLE,
};

static const MsSvTagDef vacation_tags[] = {
  { "days", TAG_DAYS, 'n', "period", NULL },
  { "seconds", TAG_SECONDS, 'n', "period", "vacation-seconds" },
  { "subject", TAG_SUBJECT, 's', NULL, NULL },
  { "from", TAG_FROM, 's', NULL, NULL },
  { "addresses", TAG_ADDRESSES, 'l', NULL, NULL },
  { "mime", TAG_MIME, 0, NULL, NULL },
  { "handle", TAG_HANDLE, 's', NULL, NULL },
  { NULL },
};

/* The tags whose strings go into the reply's header (or, :handle, name
 * it): no line breaks (RFC 5322 2.2; :from and :addresses are addresses,
 * RFC 5230 4.3 and 4.5, with no control characters at all). */
static const struct {
  guint id;
  const char *what;
  gboolean address;
} header_tags[] = {
  { TAG_FROM, "vacation :from", TRUE },
  { TAG_SUBJECT, "vacation :subject", FALSE },
  { TAG_HANDLE, "vacation :handle", FALSE },
  { TAG_ADDRESSES, "vacation :addresses", TRUE },
};

static gboolean
validate_vacation (MsSvValidator *v, MsSvNode *node)
{
  for (guint i = 0; i < G_N_ELEMENTS (header_tags); i++)
    if (ms_sv_node_has_tag (node, header_tags[i].id)
        && !ms_sv_validate_field (v, node, node->tagval[header_tags[i].id], header_tags[i].what,
                                  header_tags[i].address))
      return FALSE;
  return TRUE;
}

static const char *
tag_string (MsSvRun *run, const MsSvNode *node, guint id)
{
  return ms_sv_node_has_tag (node, id) ? ms_sv_expand (run, ms_sv_arg_str (node->tagval[id], 0), NULL) : NULL;
}

/* Values from variables, checked as validate_vacation checks constants. */
static gboolean
check_header_tags (MsSvRun *run, const MsSvNode *node)
{
  for (guint i = 0; i < G_N_ELEMENTS (header_tags); i++)
    {
      const MsSvArg *arg = ms_sv_node_has_tag (node, header_tags[i].id) ? node->tagval[header_tags[i].id] : NULL;
      for (guint k = 0; arg && k < arg->strings->len; k++)
        {
          gsize len;
          const char *value = ms_sv_expand (run, ms_sv_arg_str (arg, k), &len);
          if (!ms_sv_run_check_field (run, node, value, len, header_tags[i].what, header_tags[i].address))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
exec_vacation (MsSvRun *run, const MsSvNode *node)
{
  MsAction *a;
  const char *s;

  if (!check_header_tags (run, node))
    return FALSE;
  a = ms_action_new (MS_ACTION_VACATION, run->req->envelope_from ? run->req->envelope_from : "");
  a->text = g_strdup (ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), NULL));
  if ((s = tag_string (run, node, TAG_SUBJECT)))
    a->subject = g_strdup (s);
  if ((s = tag_string (run, node, TAG_FROM)))
    a->from = g_strdup (s);
  if ((s = tag_string (run, node, TAG_HANDLE)))
    a->handle = g_strdup (s);
  a->mime = ms_sv_node_has_tag (node, TAG_MIME);
  if (ms_sv_node_has_tag (node, TAG_DAYS))
    a->days = (int) CLAMP (node->tagval[TAG_DAYS]->number, 1, 36500); /* :days 0 is 1, as Pigeonhole */
  if (ms_sv_node_has_tag (node, TAG_SECONDS))
    {
      guint64 secs = node->tagval[TAG_SECONDS]->number;
      a->seconds = (gint64) MIN (secs, (guint64) 36500 * 86400);
      a->days = (int) MAX ((a->seconds + 86399) / 86400, 1);
    }
  if (ms_sv_node_has_tag (node, TAG_ADDRESSES))
    a->addresses = g_strdupv ((char **) ms_sv_expand_list (run, node->tagval[TAG_ADDRESSES]));
  return ms_sv_run_add_action (run, node, a);
}

static const MsSvTagDef *const tags[] = { vacation_tags, NULL };
static const MsSvDef def_vacation = { "vacation", MS_SV_COMMAND, "s", tags, 0, FALSE, validate_vacation,
                                      exec_vacation, NULL };
static const MsSvDef *const defs[] = { &def_vacation, NULL };
const MsSvExtension ms_sv_ext_vacation = { "vacation", defs };
const MsSvExtension ms_sv_ext_vacation_seconds = { "vacation-seconds", NULL };
