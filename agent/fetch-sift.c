/* mailsift - fileinto_target = server (see fetch-engine.h): the server
 * files a batch into its folders before anything is fetched whole. */
#include "fetch-engine.h"

#include "crash.h"
#include "header.h"
#include "utf7.h"

#include <string.h>

/* What fileinto_target = server does with one batch: copies and moves
 * by target folder, and the messages by what is left to do. */
typedef struct {
  GHashTable *copies;  /* target -> GArray of ids */
  GHashTable *moves;   /* target -> GArray of ids */
  GArray *filed;       /* MsSourceMsg: copied, then removed */
  GArray *discarded;   /* MsSourceMsg: nothing to file or keep: after_delivery */
  GPtrArray *record;   /* MsFetchItem *: to record as seen (still in the folder) */
  GPtrArray *done;     /* MsPlan *: handled on the server, nothing here */
} Sift;

static void
add_id (GHashTable *by_target, const char *target, guint32 id)
{
  GArray *ids = g_hash_table_lookup (by_target, target);

  if (ids == NULL)
    {
      ids = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_hash_table_insert (by_target, g_strdup (target), ids);
    }
  g_array_append_val (ids, id);
}

/* The fileinto targets of @plan (UTF-7, not copied by an earlier run
 * that stopped before recording the message), and whether anything
 * else (keep, redirect, a reply) needs the message here. */
static GPtrArray *
sift_targets (MsFetch *f, const char *folder, const char *key, MsPlan *plan, gboolean *local_out,
              gboolean *filed_before_out, GError **error)
{
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);

  *local_out = *filed_before_out = FALSE;
  for (guint k = 0; k < plan->result->errors->len; k++)
    g_warning ("account %s: message %s: %s", f->account->name, plan->message_id,
               (char *) plan->result->errors->pdata[k]);
  for (guint k = 0; k < plan->result->actions->len; k++)
    {
      MsAction *a = plan->result->actions->pdata[k];
      if (ms_action_info (a->kind)->named_folder)
        {
          /* IMAP names folders in modified UTF-7 (only names that encode
           * got through the pipeline's policy) */
          g_ptr_array_add (targets, ms_utf7_imap_encode (a->target));
          if (a->edits > 0)
            g_message ("account %s: message %s: fileinto \"%s\" on the server: the server copies the "
                       "message as it is, without the script's header changes", f->account->name,
                       plan->message_id, a->target);
        }
      else if (ms_action_info (a->kind)->files || ms_action_info (a->kind)->sends)
        *local_out = TRUE;
    }
  for (guint k = targets->len; k-- > 0;)
    {
      g_autofree char *name = g_strdup_printf ("copy:%s", (char *) targets->pdata[k]);
      char *where = g_strdup_printf ("%s (on the server)", (char *) targets->pdata[k]);
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (f->stats.folders, where));
      gboolean copied = FALSE;

      g_info ("account %s: message %s: fileinto \"%s\" on the server", f->account->name,
              plan->message_id, (char *) targets->pdata[k]);
      g_hash_table_replace (f->stats.folders, where, GUINT_TO_POINTER (count + 1));
      if (!ms_state_copy_done (f->state, f->account->name, folder, key, name, &copied, error))
        return NULL;
      if (copied)
        {
          g_info ("account %s: message %s is in \"%s\" on the server already (copied by an "
                  "earlier run)", f->account->name, plan->message_id, (char *) targets->pdata[k]);
          g_ptr_array_remove_index (targets, k);
          *filed_before_out = TRUE;
        }
    }
  return g_steal_pointer (&targets);
}

/* Sort the messages of @heads (header or whole) into @sift, @need_body
 * (MsSourceMsg: to be fetched whole and delivered here) and @whole
 * (MsFetchItem: fetched whole already, to be delivered here). */
static gboolean
sift_sort (MsFetch *f, const char *folder, const MsFolderInfo *info, GHashTable *by_key, GArray *heads,
           GPtrArray *plans, Sift *sift, GArray *need_body, GArray *whole, GError **error)
{
  for (guint i = 0; i < heads->len; i++)
    {
      MsFetchItem *item = &g_array_index (heads, MsFetchItem, i);
      const MsSourceMsg *m = g_hash_table_lookup (by_key, item->uid);
      MsPlan *plan = ms_fetch_plan (f, item->spool);
      gboolean local, filed_before;
      g_autoptr (GPtrArray) targets = NULL;

      g_ptr_array_add (plans, plan);
      targets = sift_targets (f, folder, item->uid, plan, &local, &filed_before, error);
      if (targets == NULL)
        return FALSE;
      if (local || targets->len != 1 || !info->can_move)
        for (guint k = 0; k < targets->len; k++)
          add_id (sift->copies, targets->pdata[k], m->id);
      if (local && f->needs_body)
        {
          /* here whole already: handed on (heads keeps an empty item) */
          g_array_append_val (whole, *item);
          memset (item, 0, sizeof *item);
          continue;
        }
      if (local)
        {
          g_array_append_val (need_body, *m);
          continue;
        }
      g_ptr_array_add (sift->done, plan);
      if (targets->len == 1 && info->can_move)
        add_id (sift->moves, targets->pdata[0], m->id);
      else
        {
          g_array_append_val (targets->len || filed_before ? sift->filed : sift->discarded, *m);
          g_ptr_array_add (sift->record, item);
        }
      f->stats.messages++;
    }
  return TRUE;
}

/* Record as seen what stays in the folder (flagged \Deleted without
 * UIDPLUS, or discarded), so that it is not filtered again, and the
 * duplicate IDs of what was handled on the server. */
static gboolean
sift_record (MsFetch *f, const char *folder, Sift *sift, GError **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

  if (sift->record->len == 0 && sift->done->len == 0)
    return TRUE;
  if (!ms_state_txn_begin (&txn, f->state, error))
    return FALSE;
  for (guint i = 0; i < sift->done->len; i++)
    if (!ms_pipeline_record_duplicates (f->pipeline, sift->done->pdata[i], error))
      return FALSE;
  for (guint i = 0; i < sift->record->len; i++)
    {
      MsFetchItem *item = sift->record->pdata[i];
      gsize hlen;
      const char *h = g_bytes_get_data (item->spool->header, &hlen);
      g_autoptr (MsHeaderView) view = ms_header_view_new (h, hlen);

      if (!ms_state_seen_record (f->state, f->account->name, folder, item->uid, now,
                                 ms_header_view_get_first (view, "Message-ID"), item->server_size, error))
        return FALSE;
    }
  if (!ms_state_txn_commit (&txn, error))
    return FALSE;
  ms_crash_point ("state-commit");
  return TRUE;
}

/* Copy @ids into @target, then record that at once, in a commit of its
 * own: when a later step fails (another copy, local delivery), the next
 * run does not copy them again. A crash between the server's OK and the
 * commit costs one duplicate of each. */
static gboolean
copy_and_record (Run *run, const char *folder, GArray *ids, GHashTable *keys, const char *target,
                 GError **error)
{
  g_autoptr (GPtrArray) record = g_ptr_array_new ();
  g_autofree char *name = g_strdup_printf ("copy:%s", target);

  if (!run->ops->copy (run->src, ids, target, FALSE, error))
    return FALSE;
  ms_crash_point ("sift-copy");
  for (guint i = 0; i < ids->len; i++)
    g_ptr_array_add (record, g_hash_table_lookup (keys, GUINT_TO_POINTER (g_array_index (ids, guint32, i))));
  g_ptr_array_add (record, NULL);
  return ms_state_copies_record (run->f->state, run->f->account->name, folder,
                                 (const char *const *) record->pdata, name, error);
}

/* fileinto_target = server: filter @batch by header, carry out fileinto
 * on the server (copy, or move when that is all the script does), and
 * put into @need_body the messages that must also be delivered here
 * (keep, redirect, replies). Server first, then here: each copy is
 * recorded as soon as the server made it, so a failure later costs no
 * second copy; a crash in between files a message twice at worst, never
 * loses it. A script that reads bodies gets whole messages instead of
 * headers; those to be delivered here then go to @whole (MsFetchItem)
 * and need no second fetch. */
gboolean
ms_fetch_sift (Run *run, const Sorted *s, const MsSourceMsg *batch, guint n, GArray *need_body,
            GArray *whole, GError **error)
{
  MsFetch *f = run->f;
  g_autoptr (GArray) heads = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
  g_autoptr (GPtrArray) plans = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_plan_free);
  g_autoptr (GHashTable) by_key = ms_fetch_by_key (batch, n);
  g_autoptr (GHashTable) keys = g_hash_table_new (NULL, NULL);
  g_autoptr (GArray) filed = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  g_autoptr (GArray) discarded = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  g_autoptr (GPtrArray) record = g_ptr_array_new ();
  g_autoptr (GPtrArray) done = g_ptr_array_new ();
  Sift sift = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref),
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref),
                filed, discarded, record, done };
  gboolean ok;
  GHashTableIter iter;
  gpointer target, ids;

  g_array_set_clear_func (heads, ms_fetch_item_clear);
  for (guint i = 0; i < n; i++)
    g_hash_table_insert (keys, GUINT_TO_POINTER (batch[i].id), batch[i].key);
  ok = run->ops->fetch (run->src, s->folder, batch, n, !f->needs_body, heads, error)
       && sift_sort (f, s->folder, &s->info, by_key, heads, plans, &sift, need_body, whole, error);
  g_hash_table_iter_init (&iter, sift.copies);
  while (ok && g_hash_table_iter_next (&iter, &target, &ids))
    ok = copy_and_record (run, s->folder, ids, keys, target, error);
  g_hash_table_iter_init (&iter, sift.moves);
  while (ok && g_hash_table_iter_next (&iter, &target, &ids))
    ok = run->ops->copy (run->src, ids, target, TRUE, error);
  ok = ok && ms_fetch_remove (run, (MsSourceMsg *) filed->data, filed->len, error)
       && sift_record (f, s->folder, &sift, error)
       && ms_fetch_tell (run, (MsSourceMsg *) discarded->data, discarded->len, error);
  g_hash_table_unref (sift.copies);
  g_hash_table_unref (sift.moves);
  return ok;
}

