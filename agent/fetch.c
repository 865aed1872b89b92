/* mailsift - the fetch engine (see source.h): what to fetch, in which
 * batches, and when to tell the server, the same for every protocol.
 *
 * For each folder: select it, list it, recover from a UIDVALIDITY change
 * (IMAP), confirm the identity of what is to be removed where a server
 * reuses keys (POP3), then sort the messages: new (fetched in batches),
 * too big (left there, with a note in the INBOX), expired (keep_days)
 * and delivered before but still there although after_delivery removes
 * them (a crash came between the record and the server: done now). A
 * batch is fetched, delivered and recorded (fetch-deliver.c) before the
 * server hears anything about it. */
#include "fetch-engine.h"

#include "crash.h"
#include "error.h"
#include "header.h"
#include "utf7.h"

#include <string.h>

const MsSourceOps *
ms_source_for (const MsAccount *account)
{
  switch (account->protocol)
    {
    case MS_PROTOCOL_POP3:
      return &ms_source_pop3;
    case MS_PROTOCOL_IMAP:
      return &ms_source_imap;
    default:
      return NULL;
    }
}

void
ms_source_msg_clear (gpointer msg)
{
  g_clear_pointer (&((MsSourceMsg *) msg)->key, g_free);
}

GHashTable *
ms_fetch_by_key (const MsSourceMsg *msgs, guint n)
{
  GHashTable *by_key = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < n; i++)
    g_hash_table_insert (by_key, msgs[i].key, (gpointer) &msgs[i]);
  return by_key;
}

static GArray *
ids_of (const MsSourceMsg *msgs, guint n)
{
  GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n);

  for (guint i = 0; i < n; i++)
    g_array_append_val (ids, msgs[i].id);
  return ids;
}

/* Remove @n messages; where keys are reused, remember them, to forget
 * their records once the removal is done. */
gboolean
ms_fetch_remove (Run *run, const MsSourceMsg *msgs, guint n, GError **error)
{
  g_autoptr (GArray) ids = ids_of (msgs, n);

  if (n == 0)
    return TRUE;
  if (!run->ops->remove (run->src, ids, error))
    return FALSE;
  for (guint i = 0; run->ops->keys_reused && i < n; i++)
    g_ptr_array_add (run->removed, g_strdup (msgs[i].key));
  return TRUE;
}

/* Tell the server what after_delivery says about @n messages that are
 * delivered and recorded. */
gboolean
ms_fetch_tell (Run *run, const MsSourceMsg *msgs, guint n, GError **error)
{
  const MsAccount *a = run->f->account;
  g_autoptr (GArray) ids = NULL;

  if (n == 0 || run->f->dry_run)
    return TRUE;
  if (a->after_delivery == MS_AFTER_DELIVERY_DELETE)
    return ms_fetch_remove (run, msgs, n, error);
  ids = ids_of (msgs, n);
  if (a->after_delivery == MS_AFTER_DELIVERY_SEEN && run->ops->mark_seen)
    return run->ops->mark_seen (run->src, ids, error);
  if (a->after_delivery == MS_AFTER_DELIVERY_MOVE && run->ops->copy)
    return run->ops->copy (run->src, ids, a->move_folder, TRUE, error);
  return TRUE;
}

/* Whether @seen holds keys of another UIDVALIDITY and none of @validity. */
static gboolean
validity_changed (GHashTable *seen, guint32 validity)
{
  g_autofree char *prefix = g_strdup_printf ("%u:", validity);
  GHashTableIter iter;
  gpointer key;
  gboolean other = FALSE;

  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (g_str_has_prefix (key, prefix))
        return FALSE;
      other = TRUE;
    }
  return other;
}

/* The folder's UIDVALIDITY changed, so every key is new. Rather than
 * fetch everything again, the server's messages are matched to what was
 * delivered by Message-ID and size, and the matches recorded under their
 * new keys, all or none. Messages without a Message-ID, or whose header
 * the server will not show, are fetched again (a duplicate is better
 * than a loss). */
static gboolean
recover_validity (Run *run, const char *folder, GArray *msgs, GHashTable *seen, GError **error)
{
  MsFetch *f = run->f;
  g_autoptr (GHashTable) known = ms_state_seen_identities (f->state, f->account->name, folder, error);
  g_autoptr (GHashTable) ids = known ? run->ops->identify (run->src, folder, msgs, error) : NULL;
  guint matched = 0;
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

  if (ids == NULL || !ms_state_txn_begin (&txn, f->state, error))
    return FALSE;
  for (guint i = 0; i < msgs->len; i++)
    {
      const MsSourceMsg *m = &g_array_index (msgs, MsSourceMsg, i);
      const char *msgid = g_hash_table_lookup (ids, GUINT_TO_POINTER (m->id));
      g_autofree char *identity = msgid ? g_strdup_printf ("%s %" G_GUINT64_FORMAT, msgid, m->size) : NULL;
      gint64 *when = identity ? g_hash_table_lookup (known, identity) : NULL;
      gint64 *copy;

      if (when == NULL)
        continue;
      if (!ms_state_seen_record (f->state, f->account->name, folder, m->key, *when, msgid, m->size, error))
        return FALSE;
      copy = g_new (gint64, 1);
      *copy = *when;
      g_hash_table_replace (seen, g_strdup (m->key), copy);
      matched++;
    }
  if (!ms_state_txn_commit (&txn, error))
    return FALSE;
  g_warning ("account %s: the UIDVALIDITY of %s changed (the server renumbered it); %u of %u "
             "messages matched what was delivered before by Message-ID and size, the other %u "
             "are fetched as new", f->account->name, folder, matched, msgs->len, msgs->len - matched);
  return TRUE;
}

static gboolean
expired (const MsAccount *a, const gint64 *fetched, gint64 now)
{
  return a->keep_days > 0 && now - *fetched >= (gint64) a->keep_days * 86400;
}

/* keys_reused: before messages recorded as delivered are removed, their
 * header (fetched alone) must be the one recorded under their key, with
 * the same size; one that is not, or whose header the server will not
 * show, is taken out of @seen and delivered as new, not removed. */
static gboolean
confirm_same (Run *run, const char *folder, GArray *msgs, GHashTable *seen, gboolean removes,
              GError **error)
{
  MsFetch *f = run->f;
  g_autoptr (GArray) check = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  g_autoptr (GArray) heads = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
  g_autoptr (GHashTable) shown = g_hash_table_new (g_str_hash, g_str_equal);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_array_set_clear_func (heads, ms_fetch_item_clear);
  for (guint i = 0; i < msgs->len; i++)
    {
      const MsSourceMsg *m = &g_array_index (msgs, MsSourceMsg, i);
      gint64 *fetched = g_hash_table_lookup (seen, m->key);
      if (fetched && (removes || expired (f->account, fetched, now)))
        g_array_append_val (check, *m);
    }
  if (check->len == 0)
    return TRUE;
  if (!run->ops->fetch (run->src, folder, (MsSourceMsg *) check->data, check->len, TRUE, heads, error))
    return FALSE;
  for (guint i = 0; i < heads->len; i++)
    {
      MsFetchItem *item = &g_array_index (heads, MsFetchItem, i);
      g_autoptr (MsHeaderView) view = NULL;
      gboolean same = FALSE;
      gsize hlen;
      const char *h = g_bytes_get_data (item->spool->header, &hlen);

      view = ms_header_view_new (h, hlen);
      if (!ms_state_seen_same_message (f->state, f->account->name, folder, item->uid, item->server_size,
                                       ms_header_view_get_first (view, "Message-ID"), item->spool->header,
                                       &same, error))
        return FALSE;
      if (same)
        g_hash_table_add (shown, item->uid);
    }
  for (guint i = 0; i < check->len; i++)
    {
      const MsSourceMsg *m = &g_array_index (check, MsSourceMsg, i);
      if (g_hash_table_contains (shown, m->key))
        continue;
      g_warning ("account %s: message %s: the server lists a message under the %s of one "
                 "delivered before, but its size or header differ, or it would not show them "
                 "(the server reused the %s); delivering it rather than deleting it",
                 f->account->name, m->key, run->ops->key_name, run->ops->key_name);
      g_hash_table_remove (seen, m->key);
    }
  return TRUE;
}

/* Sort the listed @msgs of @s->folder against @seen (see Sorted); every
 * listed key goes into @present. */
static void
sort_msgs (Run *run, Sorted *s, GArray *msgs, GHashTable *seen, GHashTable *present)
{
  MsFetch *f = run->f;
  const MsAccount *a = f->account;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint64 limit = (guint64) a->max_message_size * 1024;
  gboolean fetch_big = a->oversize == MS_OVERSIZE_FETCH;
  /* redo a removal a crash interrupted, where the server can do it
   * exactly once: a COPY without MOVE or UIDPLUS leaves the original
   * (flagged \Deleted) in place, and redoing it would copy again */
  gboolean removes = a->after_delivery == MS_AFTER_DELIVERY_DELETE
                     || (a->after_delivery == MS_AFTER_DELIVERY_MOVE && s->info.exact_move);

  for (guint i = 0; i < msgs->len; i++)
    {
      const MsSourceMsg *m = &g_array_index (msgs, MsSourceMsg, i);
      gint64 *fetched = g_hash_table_lookup (seen, m->key);

      g_hash_table_add (present, m->key);
      if (fetched == NULL)
        {
          /* (a run of several sessions counts and reports each once) */
          gboolean first = g_hash_table_add (f->counted, g_strdup (m->key));

          f->stats.total += first;
          if (limit && m->size > limit && !fetch_big)
            {
              g_autofree char *where = run->ops->describe (s->folder, m);
              if (first)
                g_warning ("account %s: %s is %" G_GUINT64_FORMAT " KiB, over max_message_size; "
                           "left on the server", a->name, where, m->size / 1024);
              f->stats.skipped += first;
              if (ms_fetch_notice_due (f, s->folder, m->key))
                g_array_append_val (s->oversize, *m);
            }
          else if (!g_hash_table_contains (f->skip, m->key))
            g_array_append_val (s->todo, *m);
        }
      else if (expired (a, fetched, now))
        g_array_append_val (s->expired, *m);
      /* Delivered before. If it is still here although it should have
       * been removed, mailsift stopped between recording it and telling
       * the server: tell it now. (\Seen is not redone on every run.) */
      else if (removes)
        g_array_append_val (s->redo, *m);
    }
}

/* One batch of new messages. Its fetch may run in a thread of its own
 * while the batch before it is delivered: only the source's connection
 * is used there, and nothing else uses it meanwhile. */
typedef struct {
  Run *run;
  const char *folder;
  const MsSourceMsg *batch; /* the batch as listed (@n) */
  guint n;
  const MsSourceMsg *msgs;  /* what to fetch whole (@n_msgs): the batch, or
                             * what server-side filing left to deliver here */
  guint n_msgs;
  GArray *bodies;           /* MsSourceMsg: that list, with server-side filing */
  GArray *items;            /* MsFetchItem: what arrived */
  gboolean ok;
  GError *error;
  GThread *thread;          /* fetching in the background */
} Batch;

static gpointer
batch_fetch (gpointer data)
{
  Batch *b = data;
  MsFetch *f = b->run->f;

  /* a dry run needs only the header, unless the script reads bodies */
  b->ok = b->n_msgs == 0 || b->run->ops->fetch (b->run->src, b->folder, b->msgs, b->n_msgs,
                                                f->dry_run && !f->needs_body, b->items, &b->error);
  return NULL;
}

/* Wait for the batch's fetch, if it runs in the background. */
static void
batch_join (Batch *b)
{
  if (b != NULL && b->thread != NULL)
    g_thread_join (g_steal_pointer (&b->thread));
}

static void
batch_free (Batch *b)
{
  if (b == NULL)
    return;
  batch_join (b);
  g_array_unref (b->items);
  g_clear_pointer (&b->bodies, g_array_unref);
  g_clear_error (&b->error);
  g_free (b);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Batch, batch_free)

/* The batch at @start of @s's new messages: at most MS_FETCH_BATCH_MAX
 * messages and MS_FETCH_BATCH_BYTES. */
static Batch *
batch_new (Run *run, const Sorted *s, guint start)
{
  const MsSourceMsg *todo = (const MsSourceMsg *) s->todo->data;
  Batch *b = g_new0 (Batch, 1);
  guint64 bytes = todo[start].size;
  guint n;

  for (n = 1; start + n < s->todo->len && n < MS_FETCH_BATCH_MAX
              && bytes + todo[start + n].size <= MS_FETCH_BATCH_BYTES; n++)
    bytes += todo[start + n].size;
  b->run = run;
  b->folder = s->folder;
  b->batch = b->msgs = todo + start;
  b->n = b->n_msgs = n;
  b->items = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
  g_array_set_clear_func (b->items, ms_fetch_item_clear);
  return b;
}

/* Fetch @b now, in this thread; with fileinto_target = server, the
 * server files first and only what is left is fetched whole. */
static gboolean
batch_fetch_now (Batch *b, const Sorted *s, GError **error)
{
  if (b->run->f->fileinto_on_server)
    {
      b->bodies = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
      if (!ms_fetch_sift (b->run, s, b->batch, b->n, b->bodies, b->items, error))
        return FALSE;
      b->msgs = (const MsSourceMsg *) b->bodies->data;
      b->n_msgs = b->bodies->len;
    }
  batch_fetch (b);
  return TRUE;
}

/* Deliver @b (or show it, in a dry run) while @next is fetched, then
 * tell the server about what was delivered. */
static gboolean
batch_finish (Batch *b, GHashTable *journal, Batch *next, GError **error)
{
  Run *run = b->run;
  MsFetch *f = run->f;
  g_autoptr (GArray) told = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  g_autoptr (GHashTable) by_key = ms_fetch_by_key (b->batch, b->n);
  g_autoptr (GError) deliver_error = NULL;
  gboolean delivered = TRUE;

  if (f->dry_run)
    for (guint i = 0; i < b->items->len; i++)
      {
        MsFetchItem *item = &g_array_index (b->items, MsFetchItem, i);
        g_autofree char *where = run->ops->describe (b->folder, g_hash_table_lookup (by_key, item->uid));
        ms_fetch_dry (f, item->spool, where);
      }
  /* what arrived whole before a failure is delivered all the same */
  else
    delivered = ms_fetch_deliver_batch (f, b->folder, journal, b->items, &deliver_error);
  /* the server is told only with the connection to itself again */
  batch_join (next);
  if (!b->ok)
    {
      if (deliver_error)
        g_warning ("%s", deliver_error->message);
      g_propagate_error (error, g_steal_pointer (&b->error));
      return FALSE;
    }
  if (!delivered)
    {
      g_propagate_error (error, g_steal_pointer (&deliver_error));
      return FALSE;
    }
  for (guint i = 0; i < b->items->len; i++)
    {
      MsFetchItem *item = &g_array_index (b->items, MsFetchItem, i);
      if (item->outcome == MS_FETCH_DELIVERED)
        g_array_append_val (told, *(MsSourceMsg *) g_hash_table_lookup (by_key, item->uid));
    }
  if (!ms_fetch_tell (run, (MsSourceMsg *) told->data, told->len, error))
    return FALSE;
  if (f->progress)
    f->progress (f, f->progress_data);
  return TRUE;
}

/* The new messages of @s in batches, until fetch_deadline. While a
 * batch is delivered, the next one is fetched; the server hears about a
 * batch once it is delivered and recorded, and the next one is in. */
static gboolean
fetch_new (Run *run, const Sorted *s, GHashTable *journal, GError **error)
{
  MsFetch *f = run->f;
  /* the server files first, batch by batch, in this thread */
  gboolean ahead = !f->fileinto_on_server;
  g_autoptr (Batch) b = NULL;
  guint start = 0;

  while (start < s->todo->len && !ms_fetch_deadline_passed (f))
    {
      g_autoptr (Batch) next = NULL;

      if (b == NULL)
        {
          b = batch_new (run, s, start);
          if (!batch_fetch_now (b, s, error))
            return FALSE;
        }
      if (ahead && b->ok && start + b->n < s->todo->len && !ms_fetch_deadline_passed (f))
        {
          next = batch_new (run, s, start + b->n);
          next->thread = g_thread_new ("fetch", batch_fetch, next);
        }
      if (!batch_finish (b, journal, next, error))
        return FALSE;
      start += b->n;
      g_clear_pointer (&b, batch_free);
      b = g_steal_pointer (&next);
    }
  return TRUE;
}

/* A note in the INBOX about each message left on the server as too big. */
static gboolean
note_oversize (Run *run, const Sorted *s, GError **error)
{
  g_autoptr (GArray) notes = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
  g_autoptr (GHashTable) by_key = NULL;

  if (s->oversize->len == 0)
    return TRUE;
  g_array_set_clear_func (notes, ms_fetch_item_clear);
  by_key = ms_fetch_by_key ((MsSourceMsg *) s->oversize->data, s->oversize->len);
  if (!run->ops->fetch (run->src, s->folder, (MsSourceMsg *) s->oversize->data, s->oversize->len,
                        TRUE, notes, error))
    return FALSE;
  for (guint i = 0; i < notes->len; i++)
    {
      MsFetchItem *item = &g_array_index (notes, MsFetchItem, i);
      g_autofree char *where = run->ops->describe (s->folder, g_hash_table_lookup (by_key, item->uid));
      ms_fetch_notice_oversize (run->f, s->folder, item, where);
    }
  return TRUE;
}

static void
sorted_clear (Sorted *s)
{
  g_clear_pointer (&s->todo, g_array_unref);
  g_clear_pointer (&s->oversize, g_array_unref);
  g_clear_pointer (&s->expired, g_array_unref);
  g_clear_pointer (&s->redo, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sorted, sorted_clear)

/* Select and list @folder, and everything that follows for it. */
static gboolean
fetch_folder (Run *run, const char *folder, GError **error)
{
  MsFetch *f = run->f;
  const MsAccount *a = f->account;
  g_autoptr (GHashTable) seen = ms_state_seen_all (f->state, a->name, folder, error);
  g_autoptr (GHashTable) journal = seen ? ms_state_journal_all (f->state, a->name, folder, error) : NULL;
  g_autoptr (GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GArray) msgs = NULL;
  g_auto (Sorted) s = { folder, { 0 }, NULL, NULL, NULL, NULL };
  gboolean complete = TRUE;

  if (journal == NULL || (run->ops->select && !run->ops->select (run->src, folder, &s.info, error)))
    return FALSE;
  if (f->uidnext && !f->dry_run && s.info.next)
    {
      guint32 *next = g_new (guint32, 1);
      *next = s.info.next;
      g_hash_table_replace (f->uidnext, g_strdup (folder), next);
    }
  if ((msgs = run->ops->list (run->src, folder, &complete, error)) == NULL)
    return FALSE;
  if (s.info.validity && msgs->len > 0 && !f->dry_run && run->ops->identify
      && validity_changed (seen, s.info.validity) && !recover_validity (run, folder, msgs, seen, error))
    return FALSE;
  if (run->ops->keys_reused && !f->dry_run
      && !confirm_same (run, folder, msgs, seen, a->after_delivery == MS_AFTER_DELIVERY_DELETE, error))
    return FALSE;
  s.todo = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  s.oversize = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  s.expired = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  s.redo = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  sort_msgs (run, &s, msgs, seen, present);
  if (!f->dry_run)
    {
      if (complete)
        ms_fetch_forget_journal (f, folder, journal, present);
      if (!ms_fetch_remove (run, (MsSourceMsg *) s.expired->data, s.expired->len, error)
          || !ms_fetch_tell (run, (MsSourceMsg *) s.redo->data, s.redo->len, error))
        return FALSE;
    }
  if (!fetch_new (run, &s, journal, error) || !note_oversize (run, &s, error))
    return FALSE;
  /* forget what the folder no longer holds (or what an old UIDVALIDITY
   * named); after a listing cut short, what is missing may still be there */
  if (!f->dry_run && complete)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, seen);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!g_hash_table_contains (present, key))
          ms_state_seen_forget (f->state, a->name, folder, key, NULL);
    }
  return TRUE;
}

/* The removals are done (POP3: QUIT confirmed them): forget their
 * records, so that a new message the server may give one of their keys
 * is not taken for them. */
static void
forget_removed (MsFetch *f, GPtrArray *removed)
{
  g_autoptr (GError) error = NULL;
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;
  gboolean ok = ms_state_txn_begin (&txn, f->state, &error);

  for (guint i = 0; ok && i < removed->len; i++)
    ok = ms_state_seen_forget (f->state, f->account->name, "", removed->pdata[i], &error);
  if (ok && ms_state_txn_commit (&txn, &error))
    return;
  /* harmless: the next run checks a header before it removes anything */
  g_warning ("account %s: the records of the messages just deleted could not be removed: %s",
             f->account->name, error->message);
}

/* One session: login to logout. */
static gboolean
session (MsFetch *f, const MsSourceOps *ops, GError **error)
{
  static const char *const mailbox[] = { "", NULL };
  const char *const *folders = ops->has_folders ? (const char *const *) f->account->folders : mailbox;
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  Run run = { f, ops, NULL, removed };
  gboolean ok;

  run.src = ops->open (f, error);
  if (run.src == NULL)
    return FALSE;
  ok = TRUE;
  for (guint i = 0; ok && folders && folders[i] && !f->deadline_hit; i++)
    ok = fetch_folder (&run, folders[i], error);
  if (!ops->close (run.src, ok, ok ? error : NULL))
    ok = FALSE;
  if (ok && removed->len && !f->dry_run)
    {
      forget_removed (f, removed);
      g_info ("account %s: %u messages deleted on the server", f->account->name, removed->len);
    }
  return ok;
}

void
ms_fetch_count_failed (MsFetch *f, guint n)
{
  g_atomic_int_add ((gint *) &f->stats.failed, (gint) n);
}

gboolean
ms_fetch_run (MsFetch *f, const MsSourceOps *ops, GError **error)
{
  g_autoptr (GHashTable) skip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) counted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean ok;

  f->skip = skip;
  f->counted = counted;
  f->fileinto_on_server = ops->copy && f->account->fileinto_target == MS_FILEINTO_SERVER && !f->dry_run;
  /* asked once per fetch: the filter process knows when the script (or
   * a script it includes) changed */
  f->needs_body = (f->dry_run || f->fileinto_on_server) && ms_pipeline_needs_body (f->pipeline);
  /* A session that came out of step ends without logging out (the
   * server removes nothing of it; what it delivered is removed by the
   * next session, as after a crash); the next one leaves out the message
   * that did it. Each one leaves out one more, so this ends. */
  for (;;)
    {
      f->out_of_step = FALSE;
      ok = session (f, ops, error);
      if (ok || !f->out_of_step)
        break;
      g_clear_error (error);
      g_info ("account %s: reconnecting to fetch the rest", f->account->name);
    }
  f->skip = f->counted = NULL;
  return ok;
}
