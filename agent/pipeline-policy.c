/* mailsift - the pipeline's policy (see pipeline.h): what of the
 * script's actions may be carried out, and how; an action refused is
 * dropped or turned into keep, with a note in the plan. Also the plan
 * for a delivery without the state store (ms_pipeline_plan_without_state). */
#include "pipeline-private.h"

#include "deliver-maildir.h"
#include "respond.h"

#include <string.h>

/* Turn action @i of @r into keep, with the flags and header edits it
 * had. Transfer none. */
static MsAction *
replace_with_keep (MsFilterResult *r, guint i)
{
  MsAction *old = r->actions->pdata[i];
  MsAction *keep = ms_action_new (MS_ACTION_KEEP, NULL);

  keep->flags = g_steal_pointer (&old->flags);
  keep->edits = old->edits;
  ms_action_free (old);
  r->actions->pdata[i] = keep;
  return keep;
}

/* Whether you redirected this message before: it carries a trace
 * header with your identity (a mail loop). */
static gboolean
redirect_loops (MsPipeline *p, MsPlan *plan)
{
  const char *const *traces = ms_header_view_lookup (plan->view, MS_TRACE_HEADER);
  const char *me = ms_pipeline_identity (p->config, plan->envelope_to);

  for (guint i = 0; traces && traces[i]; i++)
    {
      g_autofree char *who = g_strndup (traces[i], strcspn (traces[i], ";"));
      if (ms_address_equal (g_strstrip (who), me) || g_strcmp0 (who, me) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The policy for each kind of action: TRUE when action @i of @plan
 * stays (perhaps turned into keep where it is), FALSE when it is to be
 * dropped; a note says why it changed. */

/* fileinto: a folder name that cannot be stored is kept in INBOX. */
static gboolean
check_fileinto (MsPipeline *p, MsPlan *plan, guint i)
{
  const MsConfig *config = p->config;
  MsAction *a = plan->result->actions->pdata[i];
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = ms_maildir_folder_dir (config->maildir, a->target,
                                                config->folder_separator, &error);
  if (dir == NULL)
    {
      ms_plan_note (plan, "fileinto \"%s\" refused, kept in INBOX instead: %s", a->target,
                    error->message);
      replace_with_keep (plan->result, i);
    }
  return TRUE;
}

/* vacation: why the history says not to answer (the sender was
 * answered within :days, or the history cannot be read), or NULL. */
static const char *
vacation_history_refuses (MsPipeline *p, MsPlan *plan, const MsAction *a)
{
  g_autofree char *handle = ms_vacation_handle (a);
  gboolean answered = FALSE;
  g_autoptr (GError) error = NULL;

  if (!ms_state_vacation_answered_since (p->state, a->target, handle,
                                         g_get_real_time () / G_USEC_PER_SEC
                                           - (a->seconds > 0 ? a->seconds
                                                            : (gint64) a->days * 86400),
                                         &answered, &error))
    ms_plan_note (plan, "vacation history unreadable (%s); not answering to be safe",
                  error->message);
  if (answered || error)
    return answered ? "already answered this sender within :days" : "no history";
  return NULL;
}

/* vacation: completed (:days within bounds, :from an address, a
 * subject, the envelope sender as target), and sent only where RFC 5230
 * and the history allow. */
static gboolean
check_vacation (MsPipeline *p, MsPlan *plan, MsAction *a)
{
  const MsConfig *config = p->config;
  const char *why;

  a->days = ms_vacation_days (config, a);
  if (a->from != NULL)
    {
      /* :from may be "Name <addr>"; the reply needs the address */
      g_auto (GStrv) addrs = ms_address_list_parse (a->from);
      g_free (a->from);
      a->from = addrs[0] && ms_address_is_valid (addrs[0], NULL) ? g_strdup (addrs[0]) : NULL;
      if (a->from == NULL)
        {
          ms_plan_note (plan, "vacation not sent: its :from is not a valid address");
          return FALSE;
        }
    }
  if (a->subject == NULL)
    {
      const char *orig = ms_header_view_get_first (ms_plan_view_for (plan, a), "Subject");
      /* RFC 5230 5.5; without a subject, Pigeonhole's wording */
      a->subject = orig && *orig ? g_strdup_printf ("Auto: %s", orig) : g_strdup ("Automated reply");
    }
  g_free (a->target);
  a->target = g_strdup (plan->envelope_from ? plan->envelope_from : "");
  why = ms_vacation_refuses (config, ms_plan_view_for (plan, a), plan->envelope_from, plan->envelope_to, a);
  if (why == NULL && p->state != NULL)
    why = vacation_history_refuses (p, plan, a);
  if (why)
    {
      ms_plan_note (plan, "vacation not sent: %s", why);
      return FALSE;
    }
  return TRUE;
}

/* redirect: a loop is kept instead; past max_redirects (counted in
 * @redirects), dropped. */
static gboolean
check_redirect (MsPipeline *p, MsPlan *plan, guint i, int *redirects)
{
  const MsConfig *config = p->config;
  MsAction *a = plan->result->actions->pdata[i];

  if (redirect_loops (p, plan))
    {
      ms_plan_note (plan, "redirect to %s refused: this message was already redirected by you "
                    "(" MS_TRACE_HEADER "), a mail loop; kept instead", a->target);
      replace_with_keep (plan->result, i);
    }
  else if (++*redirects > config->max_redirects)
    {
      ms_plan_note (plan, "redirect to %s dropped: more than max_redirects (%d) in one message",
                    a->target, config->max_redirects);
      return FALSE;
    }
  return TRUE;
}

/* reject: kept instead where the notice would be backscatter. */
static gboolean
check_reject (MsPipeline *p, MsPlan *plan, guint i)
{
  const char *why = ms_respond_sender_refuses (p->config, plan->view, plan->envelope_from);

  if (why)
    {
      ms_plan_note (plan, "reject turned into keep (no backscatter): %s", why);
      replace_with_keep (plan->result, i);
    }
  return TRUE;
}

/* notify: not about automatic mail, and only by mailto:ADDRESS. */
static gboolean
check_notify (MsPlan *plan, const MsAction *a)
{
  const char *auto_sub = ms_header_view_get_first (plan->view, "Auto-Submitted");

  /* RFC 5435 8: no notifications about automatic mail */
  if (auto_sub && g_ascii_strcasecmp (auto_sub, "no") != 0)
    {
      ms_plan_note (plan, "notify not sent: the message is Auto-Submitted (%s)", auto_sub);
      return FALSE;
    }
  if (a->target == NULL || g_ascii_strncasecmp (a->target, "mailto:", 7) != 0
      || !ms_address_is_valid (a->target + 7, NULL))
    {
      ms_plan_note (plan, "notify method \"%s\" ignored: only mailto:ADDRESS is supported",
                    a->target ? a->target : "");
      return FALSE;
    }
  return TRUE;
}

/* What the script asked for, made safe to carry out: each action passes
 * the policy for its kind, or is changed or dropped with a note. */
void
ms_pipeline_apply_policy (MsPipeline *p, MsPlan *plan)
{
  MsFilterResult *r = plan->result;
  int redirects = 0;

  for (guint i = 0; i < r->actions->len; i++)
    {
      MsAction *a = r->actions->pdata[i];
      g_autofree char *unsafe = ms_respond_unsafe (a);
      gboolean stays = TRUE;

      if (unsafe != NULL)
        {
          /* never a reply with header fields the script did not mean */
          ms_plan_note (plan, "%s not sent: %s", ms_action_kind_to_string (a->kind), unsafe);
          ms_action_free (g_ptr_array_steal_index (r->actions, i--));
          continue;
        }

      /* the checks differ from kind to kind: a switch, not the action table */
      switch (a->kind)
        {
        case MS_ACTION_FILEINTO:
          stays = check_fileinto (p, plan, i);
          break;
        case MS_ACTION_VACATION:
          stays = check_vacation (p, plan, a);
          break;
        case MS_ACTION_REDIRECT:
          stays = check_redirect (p, plan, i, &redirects);
          break;
        case MS_ACTION_REJECT:
          stays = check_reject (p, plan, i);
          break;
        case MS_ACTION_NOTIFY:
          stays = check_notify (plan, a);
          break;
        default:
          break;
        }
      if (!stays)
        ms_action_free (g_ptr_array_steal_index (r->actions, i--));
    }
}

/* Whether @r keeps the message with the header @edits already. */
static gboolean
keeps_already (const MsFilterResult *r, guint edits)
{
  for (guint i = 0; i < r->actions->len; i++)
    {
      const MsAction *a = r->actions->pdata[i];
      if (a->kind == MS_ACTION_KEEP && a->edits == edits)
        return TRUE;
    }
  return FALSE;
}

gboolean
ms_pipeline_plan_without_state (MsPlan *plan, const char *why)
{
  MsFilterResult *r = plan->result;
  gboolean changed = FALSE;

  for (guint i = 0; i < r->actions->len; i++)
    {
      MsAction *a = r->actions->pdata[i];
      const MsActionInfo *info = ms_action_info (a->kind);

      /* only what sends mail needs the outbound queue */
      if (!info->sends)
        continue;
      if (info->disposes)
        {
          /* the message goes nowhere else: the INBOX takes it */
          ms_plan_note (plan, "%s%s%s not done, the message is kept instead: %s",
                        ms_action_kind_to_string (a->kind), a->kind == MS_ACTION_REDIRECT ? " to " : "",
                        a->kind == MS_ACTION_REDIRECT ? a->target : "", why);
          /* "redirect; keep;" keeps one copy, not two */
          if (keeps_already (r, a->edits))
            ms_action_free (g_ptr_array_steal_index (r->actions, i--));
          else
            replace_with_keep (r, i);
        }
      else
        {
          /* an answer, not a copy: the message is delivered all the same */
          ms_plan_note (plan, "%s not sent: %s", ms_action_kind_to_string (a->kind), why);
          ms_action_free (g_ptr_array_steal_index (r->actions, i--));
        }
      changed = TRUE;
    }
  if (!r->failed && r->duplicates->len > 0)
    {
      ms_plan_note (plan, "duplicate: this message's IDs are not remembered, a later copy is not found "
                    "to be a duplicate: %s", why);
      g_ptr_array_set_size (r->duplicates, 0);
      changed = TRUE;
    }
  return changed;
}
