/* mailsift - delivering a fetched batch (see source.h): the journal, the
 * filter, the pipeline and the records, before the server is told; and
 * the dry run and the notes about messages too big to fetch. */
#include "source.h"

#include "crash.h"
#include "deliver-maildir.h"
#include "error.h"
#include "respond.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

void
ms_fetch_item_clear (gpointer data)
{
  MsFetchItem *item = data;

  g_clear_pointer (&item->uid, g_free);
  g_clear_pointer (&item->spool, ms_spool_free);
}

static void
count_actions (MsFetch *f, const MsPlan *plan)
{
  for (guint i = 0; i < plan->result->actions->len; i++)
    {
      const MsAction *a = plan->result->actions->pdata[i];
      g_autofree char *key = g_strdup (ms_action_info (a->kind)->files ? ms_action_folder (a)
                                                                        : ms_action_kind_to_string (a->kind));
      gpointer n = g_hash_table_lookup (f->stats.folders, key);
      g_hash_table_replace (f->stats.folders, g_steal_pointer (&key), GUINT_TO_POINTER (GPOINTER_TO_UINT (n) + 1));
    }
}

/* The envelope of a fetched message: no SMTP envelope exists, so the
 * sender is its Return-Path and the recipient your first address. */
static void
fetched_envelope (MsFetch *f, MsSpool *spool, MsEnvelope *envelope, char **sender_out)
{
  gsize hlen;
  const char *h = g_bytes_get_data (spool->header, &hlen);
  g_autoptr (MsHeaderView) view = ms_header_view_new (h, hlen);
  const char *rp = ms_header_view_get_first (view, "Return-Path");

  *sender_out = NULL;
  if (rp)
    {
      while (*rp == ' ' || *rp == '<')
        rp++;
      *sender_out = g_strndup (rp, strcspn (rp, ">"));
    }
  envelope->envelope_from = *sender_out;
  envelope->envelope_to = f->config->addresses && f->config->addresses[0] ? f->config->addresses[0]
                                                                          : f->account->user;
}

gboolean
ms_fetch_deadline_passed (MsFetch *f)
{
  if (f->deadline_hit)
    return TRUE;
  if (f->deadline == 0 || g_get_monotonic_time () < f->deadline)
    return FALSE;
  f->deadline_hit = TRUE;
  g_warning ("account %s: fetch_deadline (%d s) reached; what was delivered is recorded and told "
             "to the server, the rest stays there for the next run", f->account->name,
             f->account->fetch_deadline);
  return TRUE;
}

gint64
ms_fetch_net_deadline (const MsFetch *f)
{
  return f->deadline ? f->deadline + (gint64) f->account->timeout * G_USEC_PER_SEC : 0;
}

MsPlan *
ms_fetch_plan (MsFetch *f, MsSpool *spool)
{
  g_autofree char *sender = NULL;
  MsEnvelope envelope = { 0 };

  fetched_envelope (f, spool, &envelope, &sender);
  envelope.message_path = spool->path;
  return ms_pipeline_plan (f->pipeline, spool->header, spool->size, &envelope);
}

void
ms_fetch_dry (MsFetch *f, MsSpool *spool, const char *where)
{
  g_autoptr (MsPlan) plan = ms_fetch_plan (f, spool);
  g_autoptr (GString) line = g_string_new (NULL);
  g_auto (GStrv) actions = NULL;
  const char *subject;

  subject = ms_header_view_get_first (plan->view, "Subject");
  g_string_printf (line, "%s %s: %s \"%s\" ->", f->account->name, where, plan->message_id,
                   subject ? subject : "");
  actions = ms_filter_result_format (plan->result);
  for (guint i = 0; actions[i]; i++)
    g_string_append_printf (line, "%s %s", i ? ";" : "", actions[i]);
  printf ("%s\n", line->str);
  for (guint i = 0; i < plan->result->errors->len; i++)
    printf ("    error: %s\n", (char *) plan->result->errors->pdata[i]);
  for (guint i = 0; i < plan->notes->len; i++)
    printf ("    note: %s\n", (char *) plan->notes->pdata[i]);
  f->stats.messages++;
  f->stats.bytes += spool->size;
}


/* With dedupe_message_id: a message whose Message-ID was delivered in the
 * last 30 days (from any account) is recorded as seen without being
 * delivered again. TRUE when it was such a duplicate (or on error). */
static gboolean
is_duplicate (MsFetch *f, MsSpool *spool, const MsOrigin *origin, GError **error)
{
  gsize hlen;
  const char *h = g_bytes_get_data (spool->header, &hlen);
  g_autoptr (MsHeaderView) view = ms_header_view_new (h, hlen);
  const char *msgid = ms_header_view_get_first (view, "Message-ID");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gboolean found = FALSE;
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

  if (msgid == NULL)
    return FALSE;
  if (!ms_state_msgid_delivered (f->state, msgid, f->account->name, now - 30 * 86400, &found, error))
    return TRUE;
  if (!found)
    return FALSE;
  if (!ms_state_txn_begin (&txn, f->state, error)
      || !ms_state_seen_record (f->state, origin->account, origin->folder, origin->uid, now, msgid,
                                origin->server_size, error)
      || !ms_state_seen_set_header (f->state, origin->account, origin->folder, origin->uid,
                                    spool->header, error)
      || !ms_state_journal_end (f->state, origin->account, origin->folder, origin->uid, error)
      || !ms_state_txn_commit (&txn, error))
    return TRUE;
  g_info ("account %s: message %s was already delivered (from another account); not delivered "
          "again", f->account->name, msgid);
  f->stats.duplicates++;
  return TRUE;
}

/* Filter and deliver one message of a batch; its outcome goes into
 * @item, with @ahead (transfer full), its plan made with the batch's, if
 * it still holds. FALSE with @error only for a temporary failure, which
 * stops the batch; a message that cannot be delivered for its own
 * reasons is logged, counted and kept on the server. @plan_out gets the
 * plan of a delivered message, for the counts once the batch is
 * committed. */
static gboolean
deliver_one (MsFetch *f, const char *folder, MsFetchItem *item, MsPlan *ahead, MsPlan **plan_out,
             GError **error)
{
  MsOrigin origin = { f->account->name, folder, item->uid, item->server_size };
  MsSpool *spool = item->spool;
  g_autoptr (MsPlan) plan = ahead;
  g_autofree char *summary = NULL;
  g_autoptr (GError) local = NULL;

  item->outcome = MS_FETCH_KEPT_ON_SERVER;
  if (f->config->dedupe_message_id && is_duplicate (f, spool, &origin, &local))
    {
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      item->outcome = MS_FETCH_DELIVERED;
      return TRUE;
    }
  if (plan == NULL || !ms_pipeline_plan_is_current (f->pipeline, plan))
    {
      g_clear_pointer (&plan, ms_plan_free);
      plan = ms_fetch_plan (f, spool);
    }
  /* fileinto_target = server: the source filed it there already */
  for (guint i = plan->result->actions->len; f->fileinto_on_server && i-- > 0;)
    if (ms_action_info (((MsAction *) plan->result->actions->pdata[i])->kind)->named_folder)
      g_ptr_array_remove_index (plan->result->actions, i);
  for (guint i = 0; i < plan->result->errors->len; i++)
    g_warning ("account %s: message %s: %s", f->account->name, plan->message_id,
               (char *) plan->result->errors->pdata[i]);
  for (guint i = 0; i < plan->notes->len; i++)
    g_message ("account %s: message %s: %s", f->account->name, plan->message_id,
               (char *) plan->notes->pdata[i]);
  if (!ms_pipeline_execute (f->pipeline, plan, spool, &origin, &summary, &local))
    {
      g_prefix_error (&local, "account %s: message %s: ", f->account->name, plan->message_id);
      ms_fetch_count_failed (f, 1);
      if (local->code == MS_ERROR_TEMPORARY)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* not delivered: it stays on the server, and in the journal */
      g_warning ("%s", local->message);
      return TRUE;
    }
  g_info ("account %s: message %s: %s", f->account->name, plan->message_id, summary);
  item->outcome = MS_FETCH_DELIVERED;
  *plan_out = g_steal_pointer (&plan);
  return TRUE;
}

/* Step 1 of a batch: names from the journal, sync, journal commit. */
static gboolean
journal_batch (MsFetch *f, const char *folder, GHashTable *journal, GArray *items, GError **error)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

  for (guint i = 0; i < items->len; i++)
    {
      MsFetchItem *item = &g_array_index (items, MsFetchItem, i);
      const char *recorded = g_hash_table_lookup (journal, item->uid);

      if (recorded && g_strcmp0 (recorded, item->spool->unique) != 0)
        {
          g_message ("account %s: message %s was being delivered when mailsift stopped; "
                     "delivering it again under the same name (no duplicate)", f->account->name,
                     item->uid);
          if (!ms_spool_rename (item->spool, recorded, error))
            return FALSE;
        }
      if (item->spool->path)
        g_ptr_array_add (paths, item->spool->path);
    }
  /* the files' data and names in tmp/, all at once */
  if (!ms_sync_many ((const char *const *) paths->pdata, paths->len, "spool-fsync", error))
    return FALSE;
  if (!ms_state_txn_begin (&txn, f->state, error))
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      MsFetchItem *item = &g_array_index (items, MsFetchItem, i);
      if (!ms_state_journal_begin (f->state, f->account->name, folder, item->uid,
                                   item->spool->unique, error))
        return FALSE;
    }
  if (!ms_state_txn_commit (&txn, error))
    return FALSE;
  ms_crash_point ("journal-commit");
  for (guint i = 0; i < items->len; i++)
    {
      MsFetchItem *item = &g_array_index (items, MsFetchItem, i);
      g_hash_table_replace (journal, g_strdup (item->uid), g_strdup (item->spool->unique));
    }
  return TRUE;
}

/* The batch's messages filtered at once (ms_pipeline_plan_many): each
 * plan is used when its message is delivered, unless duplicate records
 * of the messages before it have changed what the filter would see. */
static void
plan_ahead (MsFetch *f, GArray *items, MsPlan **ahead)
{
  g_autofree MsPlanInput *inputs = g_new0 (MsPlanInput, items->len);
  g_autoptr (GPtrArray) senders = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < items->len; i++)
    {
      MsSpool *spool = g_array_index (items, MsFetchItem, i).spool;
      char *sender = NULL;

      fetched_envelope (f, spool, &inputs[i].envelope, &sender);
      g_ptr_array_add (senders, sender);
      inputs[i].envelope.message_path = spool->path;
      inputs[i].header = spool->header;
      inputs[i].size = spool->size;
    }
  ms_pipeline_plan_many (f->pipeline, items->len, inputs, ahead);
}

gboolean
ms_fetch_deliver_batch (MsFetch *f, const char *folder, GHashTable *journal, GArray *items,
                        GError **error)
{
  g_autoptr (GPtrArray) plans = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_plan_free);
  g_autofree MsPlan **ahead = g_new0 (MsPlan *, items->len + 1);
  g_autoptr (GError) stop = NULL;
  gboolean dedupe = f->config->dedupe_message_id;
  guint duplicates = f->stats.duplicates;
  int lock = -1;
  gboolean ok;

  for (guint i = 0; i < items->len; i++)
    g_array_index (items, MsFetchItem, i).outcome = MS_FETCH_KEPT_ON_SERVER;
  if (items->len == 0)
    return TRUE;
  if (!journal_batch (f, folder, journal, items, error))
    return FALSE;
  /* accounts fetch in parallel: the check and the record of a Message-ID
   * must not interleave, or both copies get through */
  if (dedupe)
    lock = ms_lock_file (f->config->state_dir, "dedupe.lock", TRUE, NULL, NULL);
  ok = ms_pipeline_batch_begin (f->pipeline, error);
  if (ok)
    plan_ahead (f, items, ahead);
  for (guint i = 0; ok && i < items->len; i++)
    {
      MsPlan *plan = NULL;
      gboolean go_on = deliver_one (f, folder, &g_array_index (items, MsFetchItem, i),
                                    g_steal_pointer (&ahead[i]), &plan, &stop);
      g_ptr_array_add (plans, plan); /* NULL for a duplicate or a failure */
      if (!go_on)
        break;
    }
  for (guint i = 0; i < items->len; i++)
    g_clear_pointer (&ahead[i], ms_plan_free);
  if (ok && !ms_pipeline_batch_commit (f->pipeline, error))
    ok = FALSE;
  if (lock >= 0)
    close (lock);
  if (!ok)
    {
      /* nothing of the batch is recorded: the journal finds the copies
       * already made when it is fetched again */
      for (guint i = 0; i < items->len; i++)
        g_array_index (items, MsFetchItem, i).outcome = MS_FETCH_KEPT_ON_SERVER;
      f->stats.duplicates = duplicates;
      return FALSE;
    }
  for (guint i = 0; i < plans->len; i++)
    if (plans->pdata[i])
      {
        count_actions (f, plans->pdata[i]);
        f->stats.messages++;
        f->stats.bytes += g_array_index (items, MsFetchItem, i).spool->size;
      }
  if (stop)
    {
      g_propagate_error (error, g_steal_pointer (&stop));
      return FALSE;
    }
  return TRUE;
}

void
ms_fetch_forget_journal (MsFetch *f, const char *folder, GHashTable *journal, GHashTable *present)
{
  g_autoptr (GHashTable) copied = ms_state_copy_uids (f->state, f->account->name, folder, NULL);
  GHashTableIter iter;
  gpointer uid;

  g_hash_table_iter_init (&iter, journal);
  while (g_hash_table_iter_next (&iter, &uid, NULL))
    if (!g_hash_table_contains (present, uid))
      {
        ms_state_journal_end (f->state, f->account->name, folder, uid, NULL);
        g_hash_table_iter_remove (&iter);
      }
  /* the copies made on a server of a message that is gone */
  if (copied == NULL)
    return;
  g_hash_table_iter_init (&iter, copied);
  while (g_hash_table_iter_next (&iter, &uid, NULL))
    if (!g_hash_table_contains (present, uid))
      ms_state_copy_forget (f->state, f->account->name, folder, uid, NULL);
}

gboolean
ms_fetch_notice_due (MsFetch *f, const char *folder, const char *uid)
{
  gboolean sent = FALSE;

  return !f->dry_run && ms_state_notice_sent (f->state, f->account->name, folder, uid, &sent, NULL)
         && !sent;
}

void
ms_fetch_notice_oversize (MsFetch *f, const char *folder, const MsFetchItem *item, const char *where)
{
  const MsConfig *c = f->config;
  g_autoptr (GBytes) note = ms_oversize_notice_build (c->addresses && c->addresses[0] ? c->addresses[0] : NULL,
                                                      f->account->name, where, item->server_size,
                                                      (guint64) f->account->max_message_size * 1024,
                                                      item->spool->header);
  g_autoptr (GError) error = NULL;

  if (!ms_maildir_add_message (c->maildir, note, &error)
      || !ms_state_notice_record (f->state, f->account->name, folder, item->uid,
                                  g_get_real_time () / G_USEC_PER_SEC, &error))
    g_warning ("account %s: the note about the oversize message %s could not be written: %s",
               f->account->name, where, error->message);
}
