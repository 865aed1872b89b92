/* mailsift Sieve engine - notifications: enotify (RFC 5435; the mailto
 * method of RFC 5436) and, for scripts written for libsieve, the older
 * draft "notify" (notify :method "mailto:..." :message "..."). Both give
 * a notify action; the agent sends mailto: notifications. */
#include "sieve-core.h"

#include <string.h>

enum {
  TAG_METHOD = MS_SV_TAG_OWN,
  TAG_ID,
  TAG_OPTIONS,
  TAG_LOW,
  TAG_NORMAL,
  TAG_HIGH,
  TAG_MESSAGE,
  TAG_FROM,
  TAG_IMPORTANCE,
};

static const char *
tag_string (MsSvRun *run, const MsSvNode *node, guint id)
{
  return ms_sv_node_has_tag (node, id) ? ms_sv_expand (run, ms_sv_arg_str (node->tagval[id], 0), NULL) : NULL;
}

/* ---------------------------------------------------------------- old draft */

/* The method names the recipient (mailto:), and :from the sender, of the
 * notification mailsift writes: no control characters in either. */
static gboolean
validate_old_notify (MsSvValidator *v, MsSvNode *node)
{
  return !ms_sv_node_has_tag (node, TAG_METHOD)
         || ms_sv_validate_field (v, node, node->tagval[TAG_METHOD], "notify :method", TRUE);
}

static gboolean
exec_old_notify (MsSvRun *run, const MsSvNode *node)
{
  const char *method = tag_string (run, node, TAG_METHOD);
  MsAction *a;

  if (method && !ms_sv_run_check_field (run, node, method, strlen (method), "notify :method", TRUE))
    return FALSE;
  a = ms_action_new (MS_ACTION_NOTIFY, method ? method : "");

  a->text = g_strdup (tag_string (run, node, TAG_MESSAGE));
  a->priority = g_strdup (ms_sv_node_has_tag (node, TAG_LOW) ? "low"
                          : ms_sv_node_has_tag (node, TAG_HIGH) ? "high"
                                                                : "normal");
  if (ms_sv_node_has_tag (node, TAG_OPTIONS))
    a->options = g_strdupv ((char **) ms_sv_expand_list (run, node->tagval[TAG_OPTIONS]));
  return ms_sv_run_add_action (run, node, a);
}

static const MsSvTagDef old_tags[] = {
  { "method", TAG_METHOD, 's', NULL, NULL },
  { "id", TAG_ID, 's', NULL, NULL },
  { "options", TAG_OPTIONS, 'l', NULL, NULL },
  { "low", TAG_LOW, 0, "priority", NULL },
  { "normal", TAG_NORMAL, 0, "priority", NULL },
  { "high", TAG_HIGH, 0, "priority", NULL },
  { "message", TAG_MESSAGE, 's', NULL, NULL },
  { NULL },
};
static const MsSvTagDef *const old_tag_tables[] = { old_tags, NULL };
static const MsSvDef def_old_notify = { "notify", MS_SV_COMMAND, "", old_tag_tables, 0, FALSE,
                                        validate_old_notify, exec_old_notify, NULL };
static gboolean
exec_denotify (MsSvRun *run, const MsSvNode *node)
{
  ms_sv_run_warning (run, node, "denotify is not supported; it does nothing");
  return TRUE;
}
static const MsSvDef def_denotify = { "denotify", MS_SV_COMMAND, "", NULL, 0, FALSE, NULL, exec_denotify, NULL };
static const MsSvDef *const old_defs[] = { &def_old_notify, &def_denotify, NULL };
const MsSvExtension ms_sv_ext_notify = { "notify", old_defs };

/* ---------------------------------------------------------------- enotify */

static gboolean
method_is_known (const char *uri)
{
  return g_ascii_strncasecmp (uri, "mailto:", 7) == 0;
}

static gboolean
validate_enotify (MsSvValidator *v, MsSvNode *node)
{
  const MsSvStr *m = ms_sv_arg_str (node->pos[0], 0);

  if (!ms_sv_validate_field (v, node, node->pos[0], "notify method", TRUE)
      || (ms_sv_node_has_tag (node, TAG_FROM)
          && !ms_sv_validate_field (v, node, node->tagval[TAG_FROM], "notify :from", TRUE)))
    return FALSE;
  if (!m->vars && !method_is_known (m->str))
    {
      ms_sv_validator_error (v, node, node->pos[0], "unsupported notification method \"%s\": only mailto: is",
                             m->str);
      return FALSE;
    }
  if (ms_sv_node_has_tag (node, TAG_IMPORTANCE))
    {
      const MsSvStr *imp = ms_sv_arg_str (node->tagval[TAG_IMPORTANCE], 0);
      if (!imp->vars && (imp->len != 1 || imp->str[0] < '1' || imp->str[0] > '3'))
        {
          ms_sv_validator_error (v, node, node->tagval[TAG_IMPORTANCE], ":importance is \"1\", \"2\" or \"3\"");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
exec_enotify (MsSvRun *run, const MsSvNode *node)
{
  gsize len;
  const char *method = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), &len);
  const char *imp = tag_string (run, node, TAG_IMPORTANCE);
  const char *from = NULL;
  gsize from_len = 0;
  MsAction *a;

  if (ms_sv_node_has_tag (node, TAG_FROM))
    from = ms_sv_expand (run, ms_sv_arg_str (node->tagval[TAG_FROM], 0), &from_len);
  if (!ms_sv_run_check_field (run, node, method, len, "notify method", TRUE)
      || !ms_sv_run_check_field (run, node, from, from_len, "notify :from", TRUE))
    return FALSE;
  if (!method_is_known (method))
    {
      ms_sv_run_error (run, node, "unsupported notification method \"%s\"", method);
      return FALSE;
    }
  a = ms_action_new (MS_ACTION_NOTIFY, method);
  a->text = g_strdup (tag_string (run, node, TAG_MESSAGE));
  a->from = g_strdup (from);
  /* RFC 5435 :importance: 1 high, 2 normal, 3 low */
  a->priority = g_strdup (imp && (imp[0] == '1' || imp[0] == '3') ? (imp[0] == '1' ? "1" : "3") : "2");
  if (ms_sv_node_has_tag (node, TAG_OPTIONS))
    a->options = g_strdupv ((char **) ms_sv_expand_list (run, node->tagval[TAG_OPTIONS]));
  return ms_sv_run_add_action (run, node, a);
}

static int
test_valid_notify_method (MsSvRun *run, const MsSvNode *node)
{
  const char *const *uris = ms_sv_expand_list (run, node->pos[0]);

  for (guint i = 0; uris[i]; i++)
    if (!method_is_known (uris[i]) || !strchr (uris[i], '@'))
      return 0;
  return 1;
}

static gboolean
validate_capability (MsSvValidator *v, MsSvNode *node)
{
  return ms_sv_validate_match (v, node, node->pos[2]);
}

/* notify_method_capability: only "online" is defined (RFC 5435 5);
 * for mailto: it is "maybe". */
static int
test_capability (MsSvRun *run, const MsSvNode *node)
{
  const char *uri = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), NULL);
  const char *cap = ms_sv_expand (run, ms_sv_arg_str (node->pos[1], 0), NULL);
  MsSvMatching st;

  if (!method_is_known (uri) || g_ascii_strcasecmp (cap, "online") != 0)
    return 0;
  ms_sv_match_begin (run, &st, node->data);
  if (ms_sv_match_value (run, &st, "maybe", 5))
    return 1;
  return ms_sv_match_end (run, &st);
}

static const MsSvTagDef enotify_tags[] = {
  { "from", TAG_FROM, 's', NULL, NULL },
  { "importance", TAG_IMPORTANCE, 's', NULL, NULL },
  { "options", TAG_OPTIONS, 'l', NULL, NULL },
  { "message", TAG_MESSAGE, 's', NULL, NULL },
  { NULL },
};
static const MsSvTagDef *const enotify_tag_tables[] = { enotify_tags, NULL };
static const MsSvTagDef *const capability_tags[] = { ms_sv_tags_match, NULL };
static const MsSvDef def_enotify = { "notify", MS_SV_COMMAND, "s", enotify_tag_tables, 0, FALSE,
                                     validate_enotify, exec_enotify, NULL };
static const MsSvDef def_valid = { "valid_notify_method", MS_SV_TEST, "l", NULL, 0, FALSE, NULL, NULL,
                                   test_valid_notify_method };
static const MsSvDef def_capability = { "notify_method_capability", MS_SV_TEST, "ssl", capability_tags, 0,
                                        FALSE, validate_capability, NULL, test_capability };
static const MsSvDef *const enotify_defs[] = { &def_enotify, &def_valid, &def_capability, NULL };
const MsSvExtension ms_sv_ext_enotify = { "enotify", enotify_defs };
