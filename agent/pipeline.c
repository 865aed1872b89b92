/* mailsift - one message through filter and delivery (see pipeline.h):
 * the plan (the filter's requests and results, the libsieve lint) and
 * its execution, alone or in a batch, all or nothing. The policy that
 * turns the script's actions into a plan is pipeline-policy.c. */
#include "pipeline-private.h"

#include "crash.h"
#include "deliver-maildir.h"
#include "error.h"
#include "lint.h"
#include "queue.h"
#include "respond.h"

#include <string.h>
#include <unistd.h>

void
ms_plan_free (MsPlan *plan)
{
  if (plan == NULL)
    return;
  ms_filter_result_free (plan->result);
  g_ptr_array_unref (plan->notes);
  ms_header_view_free (plan->view);
  g_bytes_unref (plan->header);
  g_free (plan->message_id);
  g_free (plan->envelope_from);
  g_free (plan->envelope_to);
  g_clear_pointer (&plan->edited_views, g_hash_table_unref);
  g_free (plan);
}

/* The header as action @a saw it: with the header edits the script made
 * before it (RFC 5293 7: vacation examines the header as changed so
 * far). Transfer none. */
const MsHeaderView *
ms_plan_view_for (MsPlan *plan, const MsAction *a)
{
  MsHeaderView *view;
  g_autoptr (GBytes) edited = NULL;
  gsize len;
  const char *data;

  if (a->edits == 0)
    return plan->view;
  if (plan->edited_views == NULL)
    plan->edited_views = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) ms_header_view_free);
  view = g_hash_table_lookup (plan->edited_views, GUINT_TO_POINTER (a->edits));
  if (view)
    return view;
  edited = ms_header_edits_apply (plan->header, ms_header_view_get_header_size (plan->view), plan->result->edits,
                                  a->edits);
  data = g_bytes_get_data (edited, &len);
  view = ms_header_view_new (data, len);
  g_hash_table_insert (plan->edited_views, GUINT_TO_POINTER (a->edits), view);
  return view;
}

void
ms_plan_note (MsPlan *plan, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_ptr_array_add (plan->notes, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

/* With libsieve: checks libsieve cannot do (see lint.h) run here, in the agent, on the
 * script text: cheap, and they must hold for every message. The result is
 * kept while the file stays the same (path, inode, size, mtime). */
static MsFilterResult *
lint_refuses (MsPipeline *p, const char *script)
{
  struct stat st;
  MsFilterResult *r;

  if (stat (script, &st) != 0)
    return NULL; /* the filter process reports unreadable scripts */
  if (p->lint.errors == NULL || g_strcmp0 (p->lint.path, script) != 0 || st.st_ino != p->lint.st.st_ino
      || st.st_dev != p->lint.st.st_dev || st.st_size != p->lint.st.st_size
      || st.st_mtim.tv_sec != p->lint.st.st_mtim.tv_sec || st.st_mtim.tv_nsec != p->lint.st.st_mtim.tv_nsec)
    {
      g_autofree char *text = NULL;

      if (!g_file_get_contents (script, &text, NULL, NULL))
        return NULL;
      g_clear_pointer (&p->lint.errors, g_ptr_array_unref);
      g_free (p->lint.path);
      p->lint.path = g_strdup (script);
      p->lint.st = st;
      p->lint.errors = g_ptr_array_new_with_free_func (g_free);
      ms_lint_script (text, p->lint.errors, NULL);
    }
  if (p->lint.errors->len == 0)
    return NULL;
  r = ms_filter_result_new ();
  for (guint i = 0; i < p->lint.errors->len; i++)
    g_ptr_array_add (r->errors, g_strdup_printf ("%s:%s", script, (char *) p->lint.errors->pdata[i]));
  ms_filter_result_finish (r);
  return r;
}

void
ms_pipeline_clear (MsPipeline *p)
{
  g_clear_pointer (&p->lint.path, g_free);
  g_clear_pointer (&p->lint.errors, g_ptr_array_unref);
  g_clear_pointer (&p->sync_later, g_hash_table_unref);
  g_clear_pointer (&p->queued_later, g_ptr_array_unref);
  g_clear_pointer (&p->duplicates_pending, g_hash_table_unref);
  g_clear_pointer (&p->sieve_options, g_strfreev);
}

const char *
ms_pipeline_identity (const MsConfig *config, const char *envelope_to)
{
  if (config->addresses && config->addresses[0])
    return config->addresses[0];
  return envelope_to && *envelope_to ? envelope_to : g_get_user_name ();
}

/* What the Sieve engine's extensions need from the configuration (see
 * ms_filter_request_option), built once per pipeline. */
static const char *const *
sieve_options (MsPipeline *p)
{
  const MsConfig *c = p->config;
  g_autoptr (GStrvBuilder) b = NULL;

  if (p->sieve_options)
    return (const char *const *) p->sieve_options;
  const char *const settings[][2] = {
    { "maildir", c->maildir },
    { "folder_separator", c->folder_separator },
    { "spamtest_header", c->spamtest_header },
    { "spamtest_type", ms_config_choice_word ("general", "spamtest_type", c->spamtest_type) },
    { "spamtest_max", c->spamtest_max },
    { "virustest_header", c->virustest_header },
    { "virustest_max", c->virustest_max },
    { "sieve_dir", c->sieve_dir },
    { "sieve_global_dir", c->sieve_global_dir },
    /* duplicate reads its history there (read-only) */
    { "state_dir", p->state ? ms_state_get_dir (p->state) : c->state_dir },
  };

  b = g_strv_builder_new ();
  for (guint i = 0; i < G_N_ELEMENTS (settings); i++)
    if (settings[i][1])
      {
        g_autofree char *kv = g_strdup_printf ("%s=%s", settings[i][0], settings[i][1]);
        g_strv_builder_add (b, kv);
      }
  p->sieve_options = g_strv_builder_end (b);
  return (const char *const *) p->sieve_options;
}

/* The options for one request: the configuration's, and the duplicate
 * records of the open batch, which the filter cannot read from the state
 * store before the batch commits (so a second copy of a message in the
 * same batch is found). Transfer full. */
static char **
request_options (MsPipeline *p)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer hash, seen;

  g_strv_builder_addv (b, (const char **) sieve_options (p));
  if (p->duplicates_pending)
    {
      g_hash_table_iter_init (&iter, p->duplicates_pending);
      while (g_hash_table_iter_next (&iter, &hash, &seen))
        {
          g_autofree char *kv = g_strdup_printf ("duplicate.pending=%s %d", (char *) hash,
                                                 GPOINTER_TO_INT (seen));
          g_strv_builder_add (b, kv);
        }
    }
  return g_strv_builder_end (b);
}

void
ms_pipeline_plan_many (MsPipeline *p, guint n, const MsPlanInput *inputs, MsPlan **plans)
{
  const char *script = p->script ? p->script : p->config->script;
  g_auto (GStrv) options = NULL;
  g_autofree MsFilterRequest *reqs = g_new0 (MsFilterRequest, n);
  g_autofree const MsFilterRequest **asked = g_new0 (const MsFilterRequest *, n);
  g_autofree MsFilterResult **results = g_new0 (MsFilterResult *, n);
  g_autofree guint *which = g_new0 (guint, n);
  guint nasked = 0;

  for (guint i = 0; i < n; i++)
    {
      const MsPlanInput *in = &inputs[i];
      MsPlan *plan = g_new0 (MsPlan, 1);
      gsize hlen;
      const char *hdata = g_bytes_get_data (in->header, &hlen);
      const char *msgid;

      plan->notes = g_ptr_array_new_with_free_func (g_free);
      plan->header = g_bytes_ref (in->header);
      plan->view = ms_header_view_new (hdata, hlen);
      msgid = ms_header_view_get_first (plan->view, "Message-ID");
      plan->message_id = g_strdup (msgid ? msgid : "(no Message-ID)");
      plan->envelope_from = g_strdup (in->envelope.envelope_from);
      plan->envelope_to = g_strdup (in->envelope.envelope_to);
      plan->pending_generation = p->pending_generation;
      plans[i] = plan;

      if (script == NULL)
        {
          plan->result = ms_filter_result_new ();
          ms_filter_result_finish (plan->result); /* no script: keep */
          continue;
        }
      if (ms_engine_get_backend (p->engine) == MS_SIEVE_LIBSIEVE
          && (plan->result = lint_refuses (p, script)) != NULL)
        continue;
      if (options == NULL)
        options = request_options (p);
      reqs[i] = (MsFilterRequest) {
        .mode = MS_FILTER_EXECUTE,
        .script_path = script,
        .header = in->header,
        .size = in->size,
        .envelope_from = in->envelope.envelope_from,
        .envelope_to = in->envelope.envelope_to,
        .message_path = in->envelope.message_path,
        .options = (const char *const *) options,
        .subaddress_separator = p->config->subaddress_separator,
        .trace = p->trace,
      };
      asked[nasked] = &reqs[i];
      which[nasked++] = i;
    }
  if (nasked > 0)
    ms_engine_run_many (p->engine, asked, nasked, results);
  for (guint k = 0; k < nasked; k++)
    plans[which[k]]->result = results[k];
  for (guint i = 0; i < n; i++)
    {
      if (plans[i]->result->failed)
        ms_plan_note (plans[i], "script failed, message kept in INBOX: %s", plans[i]->result->failure);
      ms_pipeline_apply_policy (p, plans[i]);
    }
}

MsPlan *
ms_pipeline_plan (MsPipeline *p, GBytes *header, guint64 size, const MsEnvelope *env)
{
  MsPlanInput in = { header, size, *env };
  MsPlan *plan = NULL;

  ms_pipeline_plan_many (p, 1, &in, &plan);
  return plan;
}

gboolean
ms_pipeline_plan_is_current (const MsPipeline *p, const MsPlan *plan)
{
  return plan->pending_generation == p->pending_generation;
}

gboolean
ms_pipeline_needs_body (MsPipeline *p)
{
  const char *script = p->script ? p->script : p->config->script;
  g_autoptr (MsFilterResult) result = NULL;
  MsFilterRequest req = { .mode = MS_FILTER_VALIDATE, .script_path = script };

  if (script == NULL || ms_engine_get_backend (p->engine) == MS_SIEVE_LIBSIEVE)
    return FALSE;
  req.options = sieve_options (p);
  req.subaddress_separator = p->config->subaddress_separator;
  result = ms_engine_run (p->engine, &req);
  return !result->failed && result->needs_body;
}

/* ---------------------------------------------------------------- execute */

typedef struct {
  MsPlan *plan;
  MsSpool *spool;
  GArray *targets;      /* MsMaildirTarget */
  GPtrArray *files;     /* MsSpool* per target: the file it gets */
  GPtrArray *dirs;      /* owned strings the targets point to */
  GPtrArray *queued;    /* queue files to remove on rollback */
  GHashTable *copies;   /* edits applied -> MsSpool*: edited copies */
} Work;

static void
work_clear (Work *w)
{
  for (guint i = 0; w->targets && i < w->targets->len; i++)
    g_free (g_array_index (w->targets, MsMaildirTarget, i).delivered_path);
  g_clear_pointer (&w->targets, g_array_unref);
  g_clear_pointer (&w->files, g_ptr_array_unref);
  g_clear_pointer (&w->dirs, g_ptr_array_unref);
  g_clear_pointer (&w->queued, g_ptr_array_unref);
  /* the copies' tmp/ files go; what was delivered are links to them */
  g_clear_pointer (&w->copies, g_hash_table_unref);
}

/* The file that carries the first @edits header edits: the spool file
 * itself for none, else an edited copy, written once per message.
 * Transfer none. */
static MsSpool *
file_for (Work *w, guint edits, GError **error)
{
  MsPlan *plan = w->plan;
  gsize header_size = ms_header_view_get_header_size (plan->view);
  g_autoptr (GBytes) header = NULL;
  g_autofree char *suffix = NULL;
  MsSpool *copy;

  edits = MIN (edits, plan->result->edits->len);
  if (edits == 0)
    return w->spool;
  copy = g_hash_table_lookup (w->copies, GUINT_TO_POINTER (edits));
  if (copy)
    return copy;
  header = ms_header_edits_apply (plan->header, header_size, plan->result->edits, edits);
  suffix = g_strdup_printf ("edited%u", edits);
  copy = ms_spool_edited_copy (w->spool, header_size, header, suffix, error);
  if (copy)
    g_hash_table_insert (w->copies, GUINT_TO_POINTER (edits), copy);
  return copy;
}

static gboolean
queue_responses (MsPipeline *p, MsPlan *plan, Work *w, GError **error)
{
  const MsConfig *config = p->config;
  MsFilterResult *r = plan->result;
  /* redirect targets by the edits their copy carries, in order */
  g_autoptr (GArray) redirect_edits = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < r->actions->len; i++)
    {
      MsAction *a = r->actions->pdata[i];
      g_autoptr (GBytes) content = NULL;
      g_autofree char *from = ms_respond_from_address (config, a, plan->envelope_to);
      g_autofree char *file = NULL;
      const char *to = NULL;
      const char *reason = ms_action_kind_to_string (a->kind);
      gboolean known = FALSE;

      /* each answer is built its own way: a switch, not the action table */
      switch (a->kind)
        {
        case MS_ACTION_REDIRECT:
          for (guint k = 0; k < redirect_edits->len && !known; k++)
            known = g_array_index (redirect_edits, guint, k) == a->edits;
          if (!known)
            g_array_append_val (redirect_edits, a->edits);
          continue;
        case MS_ACTION_VACATION:
          to = a->target;
          content = ms_vacation_build (ms_plan_view_for (plan, a), a, from, to);
          break;
        case MS_ACTION_REJECT:
          /* notices quote the message as it came (RFC 5293 7) */
          to = plan->envelope_from;
          content = ms_reject_build (plan->view, plan->header, a->target, from, to, plan->envelope_to);
          break;
        case MS_ACTION_NOTIFY:
          to = a->target + strlen ("mailto:");
          content = ms_notify_build (plan->view, a, from, to);
          break;
        default: /* sends nothing */
          continue;
        }
      /* automatic answers go out with the null sender (RFC 3834 4) */
      if (!ms_queue_add (p->state, reason, "", (const char *const[]) { to, NULL }, plan->message_id,
                         NULL, NULL, content, NULL, &file, error))
        return FALSE;
      g_ptr_array_add (w->queued, g_steal_pointer (&file));
      if (a->kind == MS_ACTION_VACATION)
        {
          g_autofree char *handle = ms_vacation_handle (a);
          if (!ms_state_vacation_record (p->state, to, handle, g_get_real_time () / G_USEC_PER_SEC, error))
            return FALSE;
        }
    }
  /* one entry per version of the message, several recipients each: one
   * SMTP transaction; sent with your own address as envelope sender so
   * SPF at the smarthost holds */
  for (guint g = 0; g < redirect_edits->len; g++)
    {
      guint edits = g_array_index (redirect_edits, guint, g);
      g_autoptr (GPtrArray) redirects = g_ptr_array_new ();
      g_autofree char *file = NULL, *targets = NULL, *trace = NULL;
      const char *from = config->addresses && config->addresses[0] ? config->addresses[0] : plan->envelope_from;
      MsSpool *source = file_for (w, edits, error);

      if (source == NULL)
        return FALSE;
      for (guint i = 0; i < r->actions->len; i++)
        {
          MsAction *a = r->actions->pdata[i];
          if (a->kind == MS_ACTION_REDIRECT && a->edits == edits)
            g_ptr_array_add (redirects, a->target);
        }
      g_ptr_array_add (redirects, NULL);
      targets = g_strjoinv (", ", (char **) redirects->pdata);
      /* one trace header: who forwarded it, to whom; also the loop guard */
      trace = g_strdup_printf (MS_TRACE_HEADER ": %s; redirected to %s\n",
                               ms_pipeline_identity (p->config, plan->envelope_to), targets);
      if (!ms_queue_add (p->state, "redirect", from, (const char *const *) redirects->pdata,
                         plan->message_id, source->path, trace, NULL, NULL, &file, error))
        return FALSE;
      g_ptr_array_add (w->queued, g_steal_pointer (&file));
    }
  return TRUE;
}

static gboolean
add_target (Work *w, const MsConfig *config, const MsAction *a, GError **error)
{
  MsMaildirTarget t = { 0 };
  MsSpool *file = file_for (w, a->edits, error);
  char *dir;

  if (file == NULL)
    return FALSE;
  dir = ms_action_info (a->kind)->named_folder
          ? ms_maildir_folder_dir (config->maildir, a->target, config->folder_separator, NULL)
          : g_strdup (config->maildir);
  g_assert (dir != NULL); /* ms_pipeline_apply_policy turned bad names into keep */
  g_ptr_array_add (w->dirs, dir);
  t.dir = dir;
  t.is_subfolder = ms_action_info (a->kind)->named_folder;
  t.flags = (const char *const *) a->flags;
  g_array_append_val (w->targets, t);
  g_ptr_array_add (w->files, file);
  return TRUE;
}

/* Every copy into its folder, all or nothing. */
static gboolean
deliver_targets (MsPipeline *p, Work *w, GError **error)
{
  for (guint i = 0; i < w->targets->len; i++)
    {
      MsSpool *file = w->files->pdata[i];
      if (ms_maildir_deliver (file->path, w->spool->unique, &g_array_index (w->targets, MsMaildirTarget, i), 1,
                              p->sync_later, error))
        continue;
      for (guint k = 0; k < i; k++)
        {
          MsMaildirTarget *t = &g_array_index (w->targets, MsMaildirTarget, k);
          unlink (t->delivered_path);
          g_clear_pointer (&t->delivered_path, g_free);
        }
      return FALSE;
    }
  return TRUE;
}

gboolean
ms_pipeline_record_duplicates (MsPipeline *p, const MsPlan *plan, GError **error)
{
  const MsFilterResult *r = plan->result;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; !r->failed && i < r->duplicates->len; i++)
    {
      const MsDuplicateMark *m = r->duplicates->pdata[i];
      if (!ms_state_duplicate_record (p->state, m->hash, m->seen, now, MS_DUPLICATE_MAX_SECONDS, error))
        return FALSE;
    }
  return TRUE;
}

/* What a message recorded that plans of later messages depend on (a
 * duplicate mark, a vacation answer): plans made before it are stale
 * (ms_pipeline_plan_is_current). In a batch, the duplicate marks are not
 * committed yet: keep them for the filter of the batch's later messages. */
static void
remember_pending (MsPipeline *p, const MsPlan *plan)
{
  const MsFilterResult *r = plan->result;

  if (r->failed)
    return;
  for (guint i = 0; i < r->actions->len; i++)
    if (((const MsAction *) r->actions->pdata[i])->kind == MS_ACTION_VACATION)
      p->pending_generation++;
  if (r->duplicates->len > 0)
    p->pending_generation++;
  if (p->sync_later == NULL)
    return;
  for (guint i = 0; i < r->duplicates->len; i++)
    {
      const MsDuplicateMark *m = r->duplicates->pdata[i];
      gpointer old;
      gboolean seen = m->seen;

      if (p->duplicates_pending == NULL)
        p->duplicates_pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (g_hash_table_lookup_extended (p->duplicates_pending, m->hash, NULL, &old))
        seen &= GPOINTER_TO_INT (old);
      g_hash_table_insert (p->duplicates_pending, g_strdup (m->hash), GINT_TO_POINTER (seen));
    }
}

/* A fetched message: seen (never fetched again, with a hash of its
 * header so that a POP3 UIDL given to another message is noticed), its
 * journal entry closed, and its Message-ID remembered for dedupe; all in
 * the delivery's transaction. */
static gboolean
record_origin (MsPipeline *p, MsPlan *plan, const MsOrigin *origin, GError **error)
{
  const char *msgid = ms_header_view_get_first (plan->view, "Message-ID");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  return ms_state_seen_record (p->state, origin->account, origin->folder, origin->uid, now, msgid,
                               origin->server_size, error)
         && ms_state_seen_set_header (p->state, origin->account, origin->folder, origin->uid,
                                      plan->header, error)
         && ms_state_journal_end (p->state, origin->account, origin->folder, origin->uid, error)
         && (msgid == NULL || !p->config->dedupe_message_id
             || ms_state_msgid_record (p->state, msgid, origin->account, now, error));
}

/* Another server: once it answered OK the copy is safe there. For a
 * fetched message the APPEND is recorded at once, in a commit of its
 * own, so that when a later step fails (another APPEND, the state
 * commit) the next run does not append it again: a crash between the OK
 * and that commit costs one duplicate, never one per run. */
static gboolean
append_once (MsPipeline *p, Work *w, const MsAction *a, const MsOrigin *origin, GError **error)
{
  const char *folder = ms_action_folder (a);
  g_autofree char *target = g_strdup_printf ("append:%s:%s", p->append_to ? p->append_to : "", folder);
  const char *uids[] = { origin ? origin->uid : NULL, NULL };
  gboolean done = FALSE;
  MsSpool *file;

  if (origin && !ms_state_copy_done (p->state, origin->account, origin->folder, origin->uid,
                                     target, &done, error))
    return FALSE;
  if (done)
    {
      g_info ("account %s: message %s is in %s already (appended by an earlier run)",
              origin->account, origin->uid, folder);
      return TRUE;
    }
  file = file_for (w, a->edits, error);
  if (file == NULL || !p->append (p->append_data, folder, (const char *const *) a->flags, file, error))
    return FALSE;
  ms_crash_point ("imap-append");
  return origin == NULL
         || ms_state_copies_record (p->state, origin->account, origin->folder, uids, target, error);
}

gboolean
ms_pipeline_execute (MsPipeline *p, MsPlan *plan, MsSpool *spool, const MsOrigin *origin,
                     char **summary_out, GError **error)
{
  MsFilterResult *r = plan->result;
  Work w = { plan, spool, g_array_new (FALSE, TRUE, sizeof (MsMaildirTarget)), g_ptr_array_new (),
             g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free),
             g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) ms_spool_free) };
  g_autoptr (GString) summary = g_string_new (NULL);
  g_auto (GStrv) lines = ms_filter_result_format (r);
  /* the duplicate history is written with the delivery, or not at all */
  gboolean needs_state = origin != NULL || (r->duplicates->len > 0 && !r->failed);
  gboolean ok;

  for (guint i = 0; lines[i]; i++)
    g_string_append_printf (summary, "%s%s", i ? "; " : "", lines[i]);
  ok = TRUE;
  for (guint i = 0; ok && i < r->actions->len; i++)
    {
      MsAction *a = r->actions->pdata[i];
      if (ms_action_info (a->kind)->files && p->append)
        needs_state = TRUE;
      else if (ms_action_info (a->kind)->files)
        ok = add_target (&w, p->config, a, error);
      else if (ms_action_info (a->kind)->sends)
        needs_state = TRUE;
    }

  ok = ok && deliver_targets (p, &w, error);
  for (guint i = 0; ok && p->append && i < r->actions->len; i++)
    {
      MsAction *a = r->actions->pdata[i];
      if (ms_action_info (a->kind)->files)
        ok = append_once (p, &w, a, origin, error);
    }
  if (ok && needs_state)
    {
      g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

      ok = ms_state_txn_begin (&txn, p->state, error)
           && queue_responses (p, plan, &w, error)
           && ms_pipeline_record_duplicates (p, plan, error)
           && (origin == NULL || record_origin (p, plan, origin, error))
           && ms_state_txn_commit (&txn, error);
      /* in a batch, the commit is the batch's (ms_pipeline_batch_commit) */
      if (ok && p->sync_later == NULL)
        ms_crash_point ("state-commit");
      if (!ok)
        {
          /* undo, so that the MTA's retry does not deliver twice */
          ms_state_txn_rollback (&txn);
          for (guint i = 0; i < w.queued->len; i++)
            unlink (w.queued->pdata[i]);
          for (guint i = 0; i < w.targets->len; i++)
            unlink (g_array_index (w.targets, MsMaildirTarget, i).delivered_path);
        }
    }
  /* in a batch, its queue files wait for the batch's commit too */
  for (guint i = 0; ok && p->queued_later && i < w.queued->len; i++)
    g_ptr_array_add (p->queued_later, g_strdup (w.queued->pdata[i]));
  work_clear (&w);
  if (ok)
    remember_pending (p, plan);
  if (ok && summary_out)
    *summary_out = g_string_free (g_steal_pointer (&summary), FALSE);
  return ok;
}

gboolean
ms_pipeline_batch_begin (MsPipeline *p, GError **error)
{
  g_return_val_if_fail (p->sync_later == NULL && !p->unbatched, FALSE);
  /* an APPEND is recorded when the server took it, which a commit of the
   * whole batch would come too late for */
  if (p->append)
    {
      p->unbatched = TRUE;
      return TRUE;
    }
  /* the state writes wait for the commit: no lock is held while the
   * batch's messages are filtered */
  if (!ms_state_batch_begin (p->state, error))
    return FALSE;
  p->sync_later = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->queued_later = g_ptr_array_new_with_free_func (g_free);
  return TRUE;
}

/* The batch's records are not made: its queue files have no row. */
static void
batch_rollback (MsPipeline *p, GPtrArray *queued)
{
  ms_state_batch_rollback (p->state);
  for (guint i = 0; i < queued->len; i++)
    unlink (queued->pdata[i]);
}

gboolean
ms_pipeline_batch_commit (MsPipeline *p, GError **error)
{
  g_autoptr (GHashTable) dirs = g_steal_pointer (&p->sync_later);
  g_autoptr (GPtrArray) queued = g_steal_pointer (&p->queued_later);
  g_autoptr (GPtrArray) paths = NULL;
  GHashTableIter iter;
  gpointer dir;

  if (p->unbatched)
    {
      p->unbatched = FALSE;
      return TRUE;
    }
  g_return_val_if_fail (dirs != NULL, FALSE);
  /* committed or rolled back, the state store holds the truth again */
  g_clear_pointer (&p->duplicates_pending, g_hash_table_unref);
  /* the copies are durable before the records that let the server be
   * told: folders first, then the one short state transaction */
  paths = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, dirs);
  while (g_hash_table_iter_next (&iter, &dir, NULL))
    g_ptr_array_add (paths, dir);
  if (!ms_sync_many ((const char *const *) paths->pdata, paths->len, "folder-fsync", error))
    {
      batch_rollback (p, queued);
      return FALSE;
    }
  if (!ms_state_batch_commit (p->state, error))
    {
      /* the kept writes are gone with the failed commit */
      for (guint i = 0; i < queued->len; i++)
        unlink (queued->pdata[i]);
      return FALSE;
    }
  ms_crash_point ("state-commit");
  return TRUE;
}
