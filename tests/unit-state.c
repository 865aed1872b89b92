/* Unit tests: the state store's batches (writes kept until the commit,
 * so the store stays free for other processes), its transaction guard,
 * and how it reports a store that cannot be used. */
#include "error.h"
#include "state.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static char *
make_dir (void)
{
  return g_dir_make_tmp ("ms-state-XXXXXX", NULL);
}

static gboolean
answered (MsState *s, const char *sender)
{
  g_autoptr (GError) error = NULL;
  gboolean yes = FALSE;

  g_assert_true (ms_state_vacation_answered_since (s, sender, "h", 0, &yes, &error));
  g_assert_no_error (error);
  return yes;
}

static guint
seen_count (MsState *s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) seen = ms_state_seen_all (s, "acct", "", &error);

  g_assert_no_error (error);
  return g_hash_table_size (seen);
}

/* While one connection's batch is open (filtering, in real life), another
 * writes and commits at once: the batch holds no lock. */
static void
test_batch_holds_no_lock (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) fetch = ms_state_open (dir, &error);
  g_autoptr (MsState) deliver = NULL;
  gint64 started;

  g_assert_no_error (error);
  deliver = ms_state_open (dir, &error);
  g_assert_no_error (error);

  g_assert_true (ms_state_batch_begin (fetch, &error));
  g_assert_true (ms_state_begin (fetch, &error));
  g_assert_true (ms_state_seen_record (fetch, "acct", "", "1", 1, NULL, 10, &error));
  g_assert_true (ms_state_vacation_record (fetch, "Alice@Example.org", "h", 100, &error));
  g_assert_true (ms_state_commit (fetch, &error));
  g_assert_no_error (error);

  /* the other process: not kept waiting, and sees nothing of the batch */
  started = g_get_monotonic_time ();
  g_assert_true (ms_state_begin (deliver, &error));
  g_assert_true (ms_state_vacation_record (deliver, "carol@example.org", "h", 100, &error));
  g_assert_true (ms_state_commit (deliver, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - started, <, G_USEC_PER_SEC);
  g_assert_false (answered (deliver, "alice@example.org"));
  g_assert_cmpuint (seen_count (deliver), ==, 0);

  /* the batch sees its own vacation record (as the SQL does: ASCII case
   * folded), and the other's committed one */
  g_assert_true (answered (fetch, "ALICE@example.ORG"));
  g_assert_true (answered (fetch, "carol@example.org"));

  g_assert_true (ms_state_batch_commit (fetch, &error));
  g_assert_no_error (error);
  g_assert_true (answered (deliver, "alice@example.org"));
  g_assert_cmpuint (seen_count (deliver), ==, 1);
  g_assert_cmpuint (seen_count (fetch), ==, 1);
}

/* A message undone inside the batch (a savepoint) leaves nothing; the
 * others are committed. A batch rolled back leaves nothing at all. */
static void
test_batch_savepoints (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = ms_state_open (dir, &error);

  g_assert_no_error (error);
  g_assert_true (ms_state_batch_begin (s, &error));
  g_assert_true (ms_state_begin (s, &error));
  g_assert_true (ms_state_seen_record (s, "acct", "", "1", 1, NULL, 10, &error));
  g_assert_true (ms_state_commit (s, &error));
  g_assert_true (ms_state_begin (s, &error));
  g_assert_true (ms_state_seen_record (s, "acct", "", "2", 1, NULL, 10, &error));
  g_assert_true (ms_state_vacation_record (s, "bob@example.org", "h", 100, &error));
  /* nested once more, as is_duplicate inside a message would */
  g_assert_true (ms_state_begin (s, &error));
  g_assert_true (ms_state_seen_record (s, "acct", "", "3", 1, NULL, 10, &error));
  g_assert_true (ms_state_commit (s, &error));
  g_assert_true (answered (s, "bob@example.org"));
  ms_state_rollback (s);
  g_assert_no_error (error);
  g_assert_false (answered (s, "bob@example.org"));
  g_assert_true (ms_state_batch_commit (s, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GHashTable) seen = ms_state_seen_all (s, "acct", "", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_hash_table_size (seen), ==, 1);
    g_assert_true (g_hash_table_contains (seen, "1"));
  }

  g_assert_true (ms_state_batch_begin (s, &error));
  g_assert_true (ms_state_seen_record (s, "acct", "", "4", 1, NULL, 10, &error));
  ms_state_batch_rollback (s);
  g_assert_cmpuint (seen_count (s), ==, 1);
  /* and an ordinary transaction works again after it */
  g_assert_true (ms_state_begin (s, &error));
  g_assert_true (ms_state_seen_record (s, "acct", "", "5", 1, NULL, 10, &error));
  g_assert_true (ms_state_commit (s, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (seen_count (s), ==, 2);
}

/* A kept write that fails at the commit: nothing of the batch is made. */
static void
test_batch_commit_all_or_nothing (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = ms_state_open (dir, &error);
  const char *rcpts[] = { "x@example.org", NULL };
  MsQueueEntry e = { .id = (char *) "q1", .created = 1, .reason = (char *) "redirect",
                     .envelope_from = (char *) "", .recipients = (char **) rcpts,
                     .file = (char *) "/nonexistent" };

  g_assert_no_error (error);
  g_assert_true (ms_state_queue_insert (s, &e, &error));
  g_assert_no_error (error);
  g_assert_true (ms_state_batch_begin (s, &error));
  g_assert_true (ms_state_seen_record (s, "acct", "", "1", 1, NULL, 10, &error));
  g_assert_true (ms_state_queue_insert (s, &e, &error)); /* the same id: fails at commit */
  g_assert_no_error (error);
  g_assert_false (ms_state_batch_commit (s, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "queue insert"));
  g_assert_cmpuint (seen_count (s), ==, 0);
}

/* A file that is not a database: UNUSABLE (not busy), and the error says
 * what to do. A good store opens with MS_STATE_OK. */
static void
test_health (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *db = g_build_filename (dir, "state.db", NULL);
  g_autoptr (GError) error = NULL;
  MsStateHealth health = MS_STATE_OK;
  MsState *s;
  char junk[8192];

  for (guint i = 0; i < sizeof junk; i++)
    junk[i] = (char) (i * 7 + 13);
  g_assert_true (g_file_set_contents (db, junk, sizeof junk, NULL));
  s = ms_state_open_checked (dir, &health, &error);
  g_assert_null (s);
  g_assert_cmpint (health, ==, MS_STATE_UNUSABLE);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "state.db: cannot open: file is not a database; move it aside"));

  g_clear_error (&error);
  g_assert_cmpint (g_unlink (db), ==, 0);
  s = ms_state_open_checked (dir, &health, &error);
  g_assert_no_error (error);
  g_assert_nonnull (s);
  g_assert_cmpint (health, ==, MS_STATE_OK);
  g_assert_cmpint (ms_state_get_health (s), ==, MS_STATE_OK);
  ms_state_free (s);
}

/* Whether another connection can write at once: no transaction of @s
 * holds the write lock. */
static void
assert_unlocked (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) other = ms_state_open (dir, &error);
  gint64 started = g_get_monotonic_time ();

  g_assert_no_error (error);
  g_assert_true (ms_state_meta_set (other, "probe", "1", &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - started, <, G_USEC_PER_SEC);
}

static char *
meta_elsewhere (const char *dir, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) other = ms_state_open (dir, &error);

  g_assert_no_error (error);
  return ms_state_meta_get (other, key);
}

static gboolean
write_in_txn (MsState *s, const char *key, gboolean commit, GError **error)
{
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

  if (!ms_state_txn_begin (&txn, s, error))
    return FALSE;
  if (!ms_state_meta_set (s, key, "1", error))
    return FALSE;
  if (commit && !ms_state_txn_commit (&txn, error))
    return FALSE;
  return TRUE;
}

/* A guard that goes out of scope without a commit rolls back and lets
 * go of the write lock; nested in another, it undoes only its own
 * writes. */
static void
test_txn_scope_exit_rolls_back (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = ms_state_open (dir, &error);
  g_autofree char *a = NULL;

  g_assert_no_error (error);
  g_assert_true (write_in_txn (s, "a", FALSE, &error));
  g_assert_no_error (error);
  g_assert_null (ms_state_meta_get (s, "a"));
  assert_unlocked (dir);

  {
    g_auto (MsStateTxn) outer = MS_STATE_TXN_INIT;

    g_assert_true (ms_state_txn_begin (&outer, s, &error));
    g_assert_true (ms_state_meta_set (s, "outer", "1", &error));
    g_assert_true (write_in_txn (s, "inner", FALSE, &error));
    g_assert_true (write_in_txn (s, "kept", TRUE, &error));
    g_assert_no_error (error);
    g_assert_true (ms_state_txn_commit (&outer, &error));
    g_assert_no_error (error);
    g_assert_null (outer.state);
  }
  a = meta_elsewhere (dir, "outer");
  g_assert_cmpstr (a, ==, "1");
  g_clear_pointer (&a, g_free);
  a = meta_elsewhere (dir, "kept");
  g_assert_cmpstr (a, ==, "1");
  g_clear_pointer (&a, g_free);
  a = meta_elsewhere (dir, "inner");
  g_assert_null (a);

  /* an explicit rollback, then the scope's: the second does nothing */
  {
    g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

    g_assert_true (ms_state_txn_begin (&txn, s, &error));
    g_assert_true (ms_state_meta_set (s, "b", "1", &error));
    ms_state_txn_rollback (&txn);
    g_assert_null (txn.state);
  }
  g_assert_null (ms_state_meta_get (s, "b"));
  assert_unlocked (dir);

  /* inside a batch a guard is a savepoint of the kept writes */
  g_assert_true (ms_state_batch_begin (s, &error));
  g_assert_true (write_in_txn (s, "batch-undone", FALSE, &error));
  g_assert_true (write_in_txn (s, "batch-kept", TRUE, &error));
  g_assert_true (ms_state_batch_commit (s, &error));
  g_assert_no_error (error);
  a = meta_elsewhere (dir, "batch-kept");
  g_assert_cmpstr (a, ==, "1");
  g_clear_pointer (&a, g_free);
  a = meta_elsewhere (dir, "batch-undone");
  g_assert_null (a);
}

/* A committed guard's writes are in the store for everyone, and the
 * lock is free. */
static void
test_txn_commit_persists (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  MsState *s = ms_state_open (dir, &error);
  g_autofree char *value = NULL;

  g_assert_no_error (error);
  g_assert_true (write_in_txn (s, "a", TRUE, &error));
  g_assert_no_error (error);
  assert_unlocked (dir);
  ms_state_free (s);
  value = meta_elsewhere (dir, "a");
  g_assert_cmpstr (value, ==, "1");
}

/* A commit that fails (here the write-ahead log cannot grow, as on a
 * full disk) returns FALSE with the error and rolls back: nothing of the
 * transaction is in the store, the lock is free, and the next
 * transaction is an outer one again that commits for real. */
static void
test_txn_failed_commit_rolls_back (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *wal = g_build_filename (dir, "state.db-wal", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = ms_state_open (dir, &error);
  g_autofree char *big = g_strnfill (256 * 1024, 'x');
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;
  struct rlimit saved, limit;
  struct stat st;
  void (*old_handler) (int);
  gboolean committed;
  g_autofree char *value = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  g_assert_true (ms_state_txn_begin (&txn, s, &error));
  g_assert_true (ms_state_meta_set (s, "big", big, &error));
  g_assert_no_error (error);

  /* the commit appends the transaction's pages to the log: past its end,
   * every write fails with EFBIG */
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  limit = saved;
  limit.rlim_cur = st.st_size;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  committed = ms_state_txn_commit (&txn, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_false (committed);
  g_test_message ("%s", error->message);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "state.db: commit: "));
  g_assert_null (txn.state);
  g_clear_error (&error);
  g_assert_null (ms_state_meta_get (s, "big"));
  value = meta_elsewhere (dir, "big");
  g_assert_null (value);
  assert_unlocked (dir);
  /* no transaction of @s is left open (a batch begins only outside) */
  g_assert_true (ms_state_batch_begin (s, &error));
  ms_state_batch_rollback (s);

  g_assert_true (write_in_txn (s, "after", TRUE, &error));
  g_assert_no_error (error);
  value = meta_elsewhere (dir, "after");
  g_assert_cmpstr (value, ==, "1");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/state/batch-holds-no-lock", test_batch_holds_no_lock);
  g_test_add_func ("/state/batch-savepoints", test_batch_savepoints);
  g_test_add_func ("/state/batch-commit-all-or-nothing", test_batch_commit_all_or_nothing);
  g_test_add_func ("/state/health", test_health);
  g_test_add_func ("/state/txn-scope-exit-rolls-back", test_txn_scope_exit_rolls_back);
  g_test_add_func ("/state/txn-commit-persists", test_txn_commit_persists);
  g_test_add_func ("/state/txn-failed-commit-rolls-back", test_txn_failed_commit_rolls_back);
  return g_test_run ();
}
