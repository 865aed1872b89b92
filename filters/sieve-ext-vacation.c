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

static const char *
tag_string (MsSvRun *run, const MsSvNode *node, guint id)
{
  return ms_sv_node_has_tag (node, id) ? ms_sv_expand (run, ms_sv_arg_str (node->tagval[id], 0), NULL) : NULL;
}

static gboolean
exec_vacation (MsSvRun *run, const MsSvNode *node)
{
  MsAction *a = ms_action_new (MS_ACTION_VACATION, run->req->envelope_from ? run->req->envelope_from : "");
  const char *s;

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
static const MsSvDef def_vacation = { "vacation", MS_SV_COMMAND, "s", tags, 0, FALSE, NULL, exec_vacation, NULL };
static const MsSvDef *const defs[] = { &def_vacation, NULL };
const MsSvExtension ms_sv_ext_vacation = { "vacation", defs };
const MsSvExtension ms_sv_ext_vacation_seconds = { "vacation-seconds", NULL };
