#include "queue.h"

#include "crash.h"

#include "deliver-maildir.h"
#include "error.h"
#include "respond.h"
#include "smtp.h"
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static gboolean
write_bytes (int fd, GBytes *bytes, const char *path, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot write %s", path);
      data += n, len -= n;
    }
  return TRUE;
}

static gboolean
write_file_durably (const char *path, GBytes *content, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd < 0)
    return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot create %s", path);
  if (!write_bytes (fd, content, path, error))
    {
      close (fd), unlink (path);
      return FALSE;
    }
  if (fsync (fd) != 0 || close (fd) != 0)
    {
      int saved = errno;
      unlink (path);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot write %s", path);
    }
  return TRUE;
}

/* The queue file for a redirect: @prepend (the trace header) and then
 * the original bytes, streamed from a mapping of the spool file. */
static gboolean
write_with_prepend (const char *path, const char *prepend, const char *source, GError **error)
{
  g_autoptr (GMappedFile) map = g_mapped_file_new (source, FALSE, error);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) head = NULL;
  int fd;
  gboolean ok;

  if (map == NULL)
    return FALSE;
  body = g_mapped_file_get_bytes (map);
  head = g_bytes_new_static (prepend, strlen (prepend));
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot create %s", path);
  ok = write_bytes (fd, head, path, error) && write_bytes (fd, body, path, error);
  if (ok && (fsync (fd) != 0 || close (fd) != 0))
    ok = ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot write %s", path);
  else if (!ok)
    close (fd);
  if (!ok)
    unlink (path);
  return ok;
}

/* The queue file itself, on disk with its directory entry. */
static gboolean
write_entry_file (const char *file, const char *dir, const char *source_path, const char *prepend,
                  GBytes *content, GError **error)
{
  if (source_path != NULL && prepend != NULL)
    {
      if (!write_with_prepend (file, prepend, source_path, error))
        return FALSE;
    }
  else if (source_path != NULL)
    {
      if (link (source_path, file) != 0)
        {
          g_autoptr (GMappedFile) map = NULL;
          g_autoptr (GBytes) bytes = NULL;
          if (errno != EXDEV && errno != EPERM && errno != EMLINK)
            return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot queue %s", file);
          map = g_mapped_file_new (source_path, FALSE, error);
          if (map == NULL)
            return FALSE;
          bytes = g_mapped_file_get_bytes (map);
          if (!write_file_durably (file, bytes, error))
            return FALSE;
        }
    }
  else if (!write_file_durably (file, content, error))
    return FALSE;
  if (!ms_fsync_dir (dir, error))
    {
      unlink (file);
      return FALSE;
    }
  return TRUE;
}

gboolean
ms_queue_add (MsState *state, const char *reason, const char *envelope_from,
              const char *const *recipients, const char *origin, const char *source_path,
              const char *prepend, GBytes *content, char **id_out, char **file_out, GError **error)
{
  g_autofree char *dir = g_build_filename (ms_state_get_dir (state), "queue", NULL);
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT "-%08x%08x", g_get_real_time () / G_USEC_PER_SEC,
                                         g_random_int (), g_random_int ());
  g_autofree char *file = g_build_filename (dir, id, NULL);
  MsQueueEntry entry = { 0 };
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

  g_return_val_if_fail ((source_path == NULL) != (content == NULL), FALSE);

  /* the folder's own entry too must be on disk before a row names a
   * file in it, or a crash can leave rows whose files are all gone */
  if (!ms_mkdir_synced (dir, error))
    {
      g_prefix_error (error, "queue folder: ");
      return FALSE;
    }
  entry.id = id;
  entry.created = g_get_real_time () / G_USEC_PER_SEC;
  entry.reason = (char *) reason;
  entry.envelope_from = (char *) (envelope_from ? envelope_from : "");
  entry.recipients = (char **) recipients;
  entry.origin = (char *) origin;
  entry.file = file;
  entry.next_try = entry.created;
  /* The row goes in before the file exists, but it is committed only
   * after the file and its directory entry are on disk. Inserting it
   * takes the state store's write lock, held until that commit: so a
   * queue file that no committed row names belongs to a writer holding
   * the lock, or to one that crashed or rolled back. The sweep at the
   * start of every flush relies on that. On any failure the file is
   * removed and the row is not kept: the guard rolls it back on return,
   * as a failed commit does. */
  if (!ms_state_txn_begin (&txn, state, error))
    return FALSE;
  if (!ms_state_queue_insert (state, &entry, error)
      || !write_entry_file (file, dir, source_path, prepend, content, error))
    {
      unlink (file);
      return FALSE;
    }
  ms_crash_point ("queue-file");
  if (!ms_state_txn_commit (&txn, error))
    {
      unlink (file);
      return FALSE;
    }
  ms_crash_point ("queue-row");
  if (id_out)
    *id_out = g_steal_pointer (&id);
  if (file_out)
    *file_out = g_steal_pointer (&file);
  return TRUE;
}

/* ---------------------------------------------------------------- sending */

/* Put a failure notice, with the whole message, into the INBOX, so
 * nothing is given up silently. FALSE: it could not be written, and the
 * entry must stay. */
static gboolean
notify_failure (const MsConfig *config, const MsQueueEntry *e, GBytes *original, const char *rcpt,
                const char *reply)
{
  g_autofree char *tail = NULL;
  g_autoptr (GBytes) head = ms_failure_notice_build (config->addresses ? config->addresses[0] : NULL,
                                                     e->reason, rcpt, reply, e->id, original, &tail);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsSpoolWriter) w = ms_spool_writer_new (config->maildir, NULL, &error);
  g_autoptr (MsSpool) spool = NULL;
  MsMaildirTarget inbox = { config->maildir, FALSE, NULL, NULL };
  gsize hlen, olen;
  const char *hdata = g_bytes_get_data (head, &hlen);
  const char *odata = g_bytes_get_data (original, &olen);

  g_warning ("queue %s: %s to <%s> given up: %s", e->id, e->reason, rcpt, reply);
  if (w && ms_spool_writer_write (w, hdata, hlen, &error)
      && ms_spool_writer_write (w, odata, olen, &error)
      && ms_spool_writer_write (w, tail, strlen (tail), &error)
      && (spool = ms_spool_writer_finish (g_steal_pointer (&w), &error))
      && ms_maildir_deliver (spool->path, spool->unique, &inbox, 1, NULL, &error))
    {
      g_free (inbox.delivered_path);
      return TRUE;
    }
  g_warning ("queue %s: the failure notice could not be put into your INBOX (%s); the entry "
             "stays in the queue", e->id, error->message);
  return FALSE;
}

/* A connection to a smarthost, starting the search at host @first and
 * going round (failover). Connections stay open for the run, one per
 * host (@conns); a host that failed this run (@down set) is not tried
 * again. NULL when every host failed; @index_out: the host used. */
static MsSmtp *
connect_from (const MsConfig *config, MsSmtp **conns, gboolean *down, guint first, guint *index_out,
              char **why_out)
{
  guint n = config->smtp->len;

  for (guint k = 0; k < n; k++)
    {
      guint i = (first + k) % n;
      g_autoptr (GError) error = NULL;

      if (down[i])
        continue;
      if (conns[i] == NULL)
        conns[i] = ms_smtp_connect (config->smtp->pdata[i], &error);
      if (conns[i])
        {
          *index_out = i;
          return conns[i];
        }
      down[i] = TRUE;
      g_warning ("%s%s", error->message, k + 1 < n ? "; trying the next smarthost" : "");
      g_free (*why_out);
      *why_out = g_strdup (error->message);
    }
  return NULL;
}

static void
defer (MsQueueEntry *e, const char *why, gint64 now)
{
  gint64 delay = MIN ((gint64) 60 << MIN (e->attempts, 6), 3600);

  e->attempts++;
  e->next_try = now + delay;
  g_free (e->last_reply);
  e->last_reply = g_strdup (why);
}


/* A queue file's name is its entry's ID: seconds, "-", 16 hex digits. */
static gboolean
is_entry_name (const char *name)
{
  const char *dash = strchr (name, '-');

  if (dash == NULL || dash == name || strlen (dash + 1) != 16)
    return FALSE;
  for (const char *c = name; c < dash; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  for (const char *c = dash + 1; *c; c++)
    if (!g_ascii_isxdigit (*c))
      return FALSE;
  return TRUE;
}

/* Remove the files in the queue folder @dir that no queue row names:
 * left by a flush killed between removing a row and its file, or by an
 * enqueue that crashed or rolled back. Done under the state store's
 * write lock, which an enqueue holds from before its file exists until
 * its row is committed (ms_queue_add), so no file of an enqueue in
 * progress is taken for one of those. */
static void
sweep (MsState *state, const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GHashTable) named = NULL;
  g_autoptr (GDir) d = NULL;
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;
  const char *name;
  guint removed = 0;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return;
  if (!ms_state_txn_begin (&txn, state, &error))
    {
      g_info ("queue: %s not checked for left-over files this time: %s", dir, error->message);
      return;
    }
  entries = ms_state_queue_list (state, &error);
  d = entries ? g_dir_open (dir, 0, &error) : NULL;
  if (d == NULL)
    {
      g_info ("queue: %s not checked for left-over files this time: %s", dir, error->message);
      return;
    }
  named = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < entries->len; i++)
    g_hash_table_add (named, g_path_get_basename (((MsQueueEntry *) entries->pdata[i])->file));
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      if (!is_entry_name (name) || g_hash_table_contains (named, name))
        continue;
      path = g_build_filename (dir, name, NULL);
      if (unlink (path) == 0)
        removed++;
      else if (errno != ENOENT)
        g_warning ("queue: cannot remove %s, which no queue entry names: %s", path, g_strerror (errno));
    }
  ms_state_txn_rollback (&txn); /* only read: nothing to commit */
  if (removed)
    g_info ("queue: removed %u file(s) in %s that no queue entry named (left by an interrupted "
            "run)", removed, dir);
}

/* Make the queue row say what the smarthost accepted: gone when every
 * recipient was, else the recipients not accepted. Each statement is a
 * commit of its own, fsync'd, so this is the end of the window in which
 * a crash sends the message again. FALSE: the state store could not
 * record it. */
static gboolean
record_accepted (MsState *state, MsQueueEntry *e, const int *codes, GError **error)
{
  guint n = g_strv_length (e->recipients);
  g_autoptr (GPtrArray) left = g_ptr_array_new ();

  for (guint r = 0; r < n; r++)
    if (codes[r] < 200 || codes[r] >= 300)
      g_ptr_array_add (left, e->recipients[r]);
  if (left->len == 0)
    return ms_state_queue_delete (state, e->id, error);
  if (left->len == n)
    return TRUE;
  {
    char **all = e->recipients;
    gboolean ok;
    g_ptr_array_add (left, NULL);
    e->recipients = (char **) left->pdata;
    ok = ms_state_queue_update (state, e, error);
    e->recipients = all;
    return ok;
  }
}

/* One flush of the queue: what its entries share. */
typedef struct {
  MsState *state;
  const MsConfig *config;
  gboolean all;         /* send every entry, due or not */
  MsQueueStats *stats;
  gint64 now;
  guint n_hosts;
  MsSmtp **conns;       /* per smarthost: its connection, kept for the run */
  gboolean *down;       /* per smarthost: it failed this run */
  gboolean round_robin;
  guint turn;           /* round-robin: where the next message starts */
  char *why_down;       /* the last smarthost failure, for deferred entries */
} Flush;

static void
flush_clear (Flush *f)
{
  g_free (f->conns);
  g_free (f->down);
  g_free (f->why_down);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Flush, flush_clear)

/* The queue file of @e, mapped; NULL when it is gone, and then the
 * entry is dropped, with a warning. */
static GMappedFile *
map_entry_file (Flush *f, MsQueueEntry *e)
{
  g_autoptr (GError) local = NULL;
  GMappedFile *map = g_mapped_file_new (e->file, FALSE, &local);
  guint n = g_strv_length (e->recipients);

  if (map == NULL)
    {
      /* a queue file goes only after its row: someone else removed it */
      g_warning ("queue %s: %s to %s (from message %s) cannot be sent: its file is gone (%s); "
                 "dropping the entry. If it mattered, forward the message again.", e->id,
                 e->reason, n ? e->recipients[0] : "nobody", e->origin ? e->origin : "(unknown)",
                 local->message);
      ms_state_queue_delete (f->state, e->id, NULL);
    }
  return map;
}

/* @e was not sent within queue_lifetime: a failure notice per recipient
 * into the INBOX, and only when every one is there, the row and then the
 * file go. */
static void
give_up (Flush *f, MsQueueEntry *e, GBytes *bytes)
{
  g_autofree char *why = g_strdup_printf ("not sent within queue_lifetime (%d days); last "
                                          "answer: %s", f->config->queue_lifetime,
                                          e->last_reply ? e->last_reply : "none");
  guint n = g_strv_length (e->recipients);
  gboolean noted = TRUE;

  for (guint r = 0; r < n; r++, f->stats->failed++)
    noted &= notify_failure (f->config, e, bytes, e->recipients[r], why);
  if (noted && ms_state_queue_delete (f->state, e->id, NULL))
    unlink (e->file);
}

/* Send @e to a smarthost: the first one, or with round-robin the next
 * in turn. TRUE when one took the transaction: @codes and @replies hold
 * its answer for each recipient. */
static gboolean
send_entry (Flush *f, MsQueueEntry *e, GBytes *bytes, int *codes, char **replies)
{
  g_autoptr (GError) local = NULL;
  guint n = g_strv_length (e->recipients);
  guint n_hosts = f->n_hosts;
  gboolean sent = FALSE;

  /* connections are kept for the run; on a broken one, the next host */
  for (guint attempt = 0, first = f->round_robin ? f->turn++ % n_hosts : 0; attempt < n_hosts && !sent;
       attempt++)
    {
      gsize len;
      const char *data;
      guint used = 0;
      MsSmtp *smtp = connect_from (f->config, f->conns, f->down, first, &used, &f->why_down);
      if (smtp == NULL)
        break;
      data = g_bytes_get_data (bytes, &len);
      g_clear_error (&local);
      sent = ms_smtp_send (smtp, e->envelope_from, e->recipients, data, len, codes, replies, &local);
      for (guint r = 0; sent && r < n; r++)
        if (codes[r] >= 200 && codes[r] < 300)
          {
            ms_crash_point ("smtp-250");
            break;
          }
      if (!sent)
        {
          g_warning ("queue %s: %s", e->id, local->message);
          ms_smtp_close (smtp, FALSE);
          f->conns[used] = NULL;
          f->down[used] = TRUE;
          g_free (f->why_down);
          f->why_down = g_strdup (local->message);
        }
    }
  return sent;
}

/* What became of each recipient of @e that the smarthost answered
 * (@codes, @replies, which are freed here): counted as sent; when the
 * acceptance could not be recorded (!@recorded), left for later; with a
 * 5xx, given up once its failure notice is in the INBOX; else added to
 * @left, to try again. Returns how many were accepted. */
static guint
sort_recipients (Flush *f, MsQueueEntry *e, GBytes *bytes, const int *codes, char **replies,
                 gboolean recorded, GPtrArray *left)
{
  guint n = g_strv_length (e->recipients);
  guint accepted = 0;

  for (guint r = 0; r < n; r++)
    {
      if (codes[r] >= 200 && codes[r] < 300)
        {
          g_info ("queue %s: %s to <%s> sent: %s", e->id, e->reason, e->recipients[r], replies[r]);
          f->stats->sent++;
          accepted++;
        }
      else if (!recorded)
        f->stats->deferred++;
      /* a 5xx recipient stays in the row until its notice is in INBOX */
      else if (codes[r] >= 500 && notify_failure (f->config, e, bytes, e->recipients[r], replies[r]))
        f->stats->failed++;
      else
        {
          g_ptr_array_add (left, g_strdup (e->recipients[r]));
          g_free (e->last_reply);
          e->last_reply = g_strdup (replies[r]);
          f->stats->deferred++;
        }
      g_free (replies[r]);
    }
  return accepted;
}

/* The end of @e once its recipients are sorted: with nobody @left, its
 * row and file go; else the row keeps only those left, deferred. */
static void
finish_entry (Flush *f, MsQueueEntry *e, guint accepted, GPtrArray *left)
{
  g_autoptr (GError) local = NULL;
  guint n = g_strv_length (e->recipients);

  /* the row first, then the file: a crash in between leaves a file
   * that the next flush's sweep removes */
  if (accepted == n) /* record_accepted removed the row */
    {
      ms_crash_point ("queue-row-delete");
      unlink (e->file);
    }
  else if (left->len == 0)
    {
      if (ms_state_queue_delete (f->state, e->id, &local))
        {
          ms_crash_point ("queue-row-delete");
          unlink (e->file);
        }
      else
        g_warning ("queue %s: done, but the queue entry could not be removed (%s); a given-up "
                   "recipient may get a second notice", e->id, local->message);
    }
  if (left->len == 0)
    return;
  g_ptr_array_add (left, NULL);
  g_strfreev (e->recipients);
  e->recipients = (char **) g_ptr_array_steal (left, NULL);
  {
    g_autofree char *why = g_strdup (e->last_reply);
    defer (e, why, f->now);
  }
  ms_state_queue_update (f->state, e, NULL);
}

/* One entry of the queue, if it is due (or @f->all): dropped when its
 * file is gone, given up when it is too old, else sent, or deferred when
 * no smarthost took it. FALSE, with @error set, when the smarthost
 * accepted it but the queue could not record that: the flush stops
 * sending, so that only this message can go out twice. */
static gboolean
flush_entry (Flush *f, MsQueueEntry *e, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) left = g_ptr_array_new_with_free_func (g_free);
  gboolean expired = f->now > e->created + (gint64) f->config->queue_lifetime * 86400;
  guint n = g_strv_length (e->recipients);
  g_autofree int *codes = g_new0 (int, n + 1);
  g_autofree char **replies = g_new0 (char *, n + 1);
  gboolean recorded = TRUE;
  guint accepted;

  if (!f->all && e->next_try > f->now && !expired)
    return TRUE;
  map = map_entry_file (f, e);
  if (map == NULL)
    return TRUE;
  bytes = g_mapped_file_get_bytes (map);
  if (expired)
    {
      give_up (f, e, bytes);
      return TRUE;
    }
  if (f->config->smtp->len == 0)
    {
      g_warning ("queue %s: no [smtp NAME] smarthost is configured; it waits in the queue "
                 "(see mailsift.conf(5))", e->id);
      f->stats->deferred += n;
      return TRUE;
    }
  if (!send_entry (f, e, bytes, codes, replies))
    {
      defer (e, f->why_down ? f->why_down : "no smarthost answered", f->now);
      f->stats->deferred += n;
      ms_state_queue_update (f->state, e, NULL);
      return TRUE;
    }
  /* the smarthost has it: recorded before anything else. A crash from
   * its 250 to this commit sends this one message again; if it cannot
   * be recorded, stop, or every further message would be too */
  if (!record_accepted (f->state, e, codes, &local))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "queue %s: the smarthost accepted it, but "
                   "the queue could not record that (%s); stopped sending, so that only this "
                   "message can go out twice", e->id, local->message);
      recorded = FALSE;
    }
  accepted = sort_recipients (f, e, bytes, codes, replies, recorded, left);
  if (!recorded)
    return FALSE;
  finish_entry (f, e, accepted, left);
  return TRUE;
}

gboolean
ms_queue_flush (MsState *state, const MsConfig *config, gboolean all, MsQueueStats *stats,
                GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *dir = g_build_filename (ms_state_get_dir (state), "queue", NULL);
  g_auto (Flush) f = {
    .state = state,
    .config = config,
    .all = all,
    .stats = stats,
    .now = g_get_real_time () / G_USEC_PER_SEC,
    .n_hosts = config->smtp->len,
    .conns = g_new0 (MsSmtp *, config->smtp->len + 1),
    .down = g_new0 (gboolean, config->smtp->len + 1),
    .round_robin = config->smtp_balance == MS_SMTP_BALANCE_ROUND_ROBIN,
  };
  g_autofree char *next = f.round_robin ? ms_state_meta_get (state, "smtp_next") : NULL;
  gboolean ok = TRUE;
  int lock;

  /* round-robin: each message starts at the next host in turn, also
   * across runs (deliver sends one message per run) */
  f.turn = next ? (guint) g_ascii_strtoull (next, NULL, 10) : 0;
  memset (stats, 0, sizeof *stats);
  /* one sender at a time (deliver, fetch, run and queue flush may meet),
   * and the queue read under the lock: else an entry is sent twice */
  lock = ms_lock_file (ms_state_get_dir (state), "queue.lock", FALSE, NULL, NULL);
  if (lock < 0) /* held elsewhere, or unusable: either way, do not send */
    {
      g_info ("the outbound queue is being sent by another mailsift; leaving it to that one");
      return TRUE;
    }
  sweep (state, dir);
  entries = ms_state_queue_list (state, error);
  if (entries == NULL)
    {
      close (lock);
      return FALSE;
    }
  for (guint i = 0; ok && i < entries->len; i++)
    ok = flush_entry (&f, entries->pdata[i], error);
  for (guint i = 0; i < f.n_hosts; i++)
    if (f.conns[i])
      ms_smtp_close (f.conns[i], TRUE);
  if (f.round_robin)
    {
      g_autofree char *value = g_strdup_printf ("%u", f.n_hosts ? f.turn % f.n_hosts : 0);
      ms_state_meta_set (state, "smtp_next", value, NULL);
    }
  close (lock);
  return ok;
}

char *
ms_queue_stats_format (const MsQueueStats *st)
{
  GString *s = g_string_new ("queue: ");
  gsize empty = s->len;

  if (st->sent)
    g_string_append_printf (s, "%u sent", st->sent);
  if (st->deferred)
    g_string_append_printf (s, "%s%u to retry later", s->len > empty ? ", " : "", st->deferred);
  if (st->failed)
    g_string_append_printf (s, "%s%u given up (a failure notice is in your INBOX)", s->len > empty ? ", " : "",
                            st->failed);
  if (s->len == empty)
    g_string_append (s, "nothing was due");
  return g_string_free (s, FALSE);
}
