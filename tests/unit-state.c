/* Unit tests: the state store's batches (writes kept until the commit,
 * so the store stays free for other processes), its transaction guard,
 * its schema versions (stores made by earlier mailsift versions), and
 * how it reports a store that cannot be used. */
#include "error.h"
#include "queue.h"
#include "state.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
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

/* From here to log_growth_restore, no file of the process grows past
 * the present size of <@dir>/state.db-wal: a commit, which appends the
 * transaction's pages to that log, fails with EFBIG, as on a full disk. */
static void
log_growth_stop (const char *dir, struct rlimit *saved)
{
  g_autofree char *wal = g_build_filename (dir, "state.db-wal", NULL);
  struct rlimit limit;
  struct stat st;

  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, saved), ==, 0);
  limit = *saved;
  limit.rlim_cur = st.st_size;
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
}

static void
log_growth_restore (const struct rlimit *saved)
{
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, saved), ==, 0);
  signal (SIGXFSZ, SIG_DFL);
}

/* A commit that fails returns FALSE with the error and rolls back:
 * nothing of the transaction is in the store, the lock is free, and the
 * next transaction is an outer one again that commits for real. */
static void
test_txn_failed_commit_rolls_back (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = ms_state_open (dir, &error);
  g_autofree char *big = g_strnfill (256 * 1024, 'x');
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;
  struct rlimit saved;
  gboolean committed;
  g_autofree char *value = NULL;

  g_assert_no_error (error);
  g_assert_true (ms_state_txn_begin (&txn, s, &error));
  g_assert_true (ms_state_meta_set (s, "big", big, &error));
  g_assert_no_error (error);
  log_growth_stop (dir, &saved);
  committed = ms_state_txn_commit (&txn, &error);
  log_growth_restore (&saved);

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

/* The entries of the queue, and the files in its folder. */
static void
assert_queue (MsState *s, const char *dir, guint rows, guint files)
{
  g_autofree char *qdir = g_build_filename (dir, "queue", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = ms_state_queue_list (s, &error);
  g_autoptr (GDir) d = g_dir_open (qdir, 0, NULL);
  guint n = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, rows);
  while (d && g_dir_read_name (d))
    n++;
  g_assert_cmpuint (n, ==, files);
}

/* A message queued: its row and its file. One that cannot be queued,
 * whether writing its file or committing its row fails, leaves neither,
 * nor a transaction open; inside the caller's transaction, it undoes
 * only its own row. */
static void
test_queue_add_failures (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = ms_state_open (dir, &error);
  g_autoptr (GBytes) content = g_bytes_new_static ("Subject: x\n\nbody\n", 17);
  g_autofree char *big = g_strnfill (256 * 1024, 'x');
  const char *rcpts[] = { "a@example.org", NULL };
  const char *big_rcpts[] = { big, NULL };
  g_autofree char *value = NULL;
  struct rlimit saved;
  gboolean queued;

  g_assert_no_error (error);

  /* the file cannot be made: its source is missing */
  g_assert_false (ms_queue_add (s, "redirect", "me@example.org", rcpts, "<o@x>",
                                "/nonexistent/message", NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_clear_error (&error);
  assert_queue (s, dir, 0, 0);
  assert_unlocked (dir);

  /* the row cannot be committed */
  log_growth_stop (dir, &saved);
  queued = ms_queue_add (s, "vacation", "", big_rcpts, "<o@x>", NULL, NULL, content, NULL, NULL,
                         &error);
  log_growth_restore (&saved);
  g_assert_false (queued);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "state.db: commit: "));
  g_clear_error (&error);
  assert_queue (s, dir, 0, 0);
  assert_unlocked (dir);
  g_assert_true (ms_state_batch_begin (s, &error));
  ms_state_batch_rollback (s);

  /* in the caller's transaction: its own write stays */
  {
    g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

    g_assert_true (ms_state_txn_begin (&txn, s, &error));
    g_assert_true (ms_state_meta_set (s, "caller", "1", &error));
    g_assert_false (ms_queue_add (s, "redirect", "me@example.org", rcpts, "<o@x>",
                                  "/nonexistent/message", NULL, NULL, NULL, NULL, &error));
    g_clear_error (&error);
    g_assert_true (ms_state_txn_commit (&txn, &error));
    g_assert_no_error (error);
  }
  value = meta_elsewhere (dir, "caller");
  g_assert_cmpstr (value, ==, "1");
  assert_queue (s, dir, 0, 0);

  g_assert_true (ms_queue_add (s, "vacation", "", rcpts, "<o@x>", NULL, NULL, content, NULL, NULL,
                               &error));
  g_assert_no_error (error);
  assert_queue (s, dir, 1, 1);
  assert_unlocked (dir);
}

/* ---------------------------------------------------------------- schema versions */

/* The layouts earlier mailsift versions left, all at user_version 0,
 * as their CREATE and ALTER statements made them. */

/* The first store: queue and vacation history only. */
static const char layout_oldest[] =
  "PRAGMA journal_mode=WAL;"
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
  "CREATE TABLE IF NOT EXISTS queue ("
  "  id TEXT PRIMARY KEY, created INTEGER NOT NULL, reason TEXT NOT NULL,"
  "  envelope_from TEXT NOT NULL, recipients TEXT NOT NULL, origin TEXT,"
  "  file TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_try INTEGER NOT NULL DEFAULT 0, last_reply TEXT);"
  "CREATE TABLE IF NOT EXISTS vacation ("
  "  sender TEXT NOT NULL, handle TEXT NOT NULL, sent INTEGER NOT NULL,"
  "  PRIMARY KEY (sender, handle));"
  "INSERT OR IGNORE INTO meta VALUES ('schema', '1');";

/* Made by the first fetching version (seen without msgid and size),
 * then opened by the one that brought dedupe_message_id: its ALTERs
 * added msgid and size to seen, and it made delivered_ids, still
 * without account. header_sha256 came later. */
static const char layout_partial[] =
  "PRAGMA journal_mode=WAL;"
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
  "CREATE TABLE IF NOT EXISTS queue ("
  "  id TEXT PRIMARY KEY, created INTEGER NOT NULL, reason TEXT NOT NULL,"
  "  envelope_from TEXT NOT NULL, recipients TEXT NOT NULL, origin TEXT,"
  "  file TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_try INTEGER NOT NULL DEFAULT 0, last_reply TEXT);"
  "CREATE TABLE IF NOT EXISTS vacation ("
  "  sender TEXT NOT NULL, handle TEXT NOT NULL, sent INTEGER NOT NULL,"
  "  PRIMARY KEY (sender, handle));"
  "CREATE TABLE IF NOT EXISTS seen ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL,"
  "  fetched INTEGER NOT NULL, PRIMARY KEY (account, folder, uid));"
  "CREATE TABLE IF NOT EXISTS journal ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL,"
  "  name TEXT NOT NULL, started INTEGER NOT NULL, PRIMARY KEY (account, folder, uid));"
  "INSERT OR IGNORE INTO meta VALUES ('schema', '1');"
  "CREATE TABLE IF NOT EXISTS delivered_ids (msgid TEXT PRIMARY KEY, at INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS account_status ("
  "  account TEXT PRIMARY KEY, last_ok INTEGER, last_error TEXT, last_error_at INTEGER,"
  "  fetched_total INTEGER NOT NULL DEFAULT 0);"
  "ALTER TABLE seen ADD COLUMN msgid TEXT;"
  "ALTER TABLE seen ADD COLUMN size INTEGER;";

/* The last version before schema versions, on a new file: every table,
 * and every column its ALTERs add. */
static const char layout_last_unversioned[] =
  "PRAGMA journal_mode=WAL;"
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
  "CREATE TABLE IF NOT EXISTS queue ("
  "  id TEXT PRIMARY KEY, created INTEGER NOT NULL, reason TEXT NOT NULL,"
  "  envelope_from TEXT NOT NULL, recipients TEXT NOT NULL, origin TEXT,"
  "  file TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_try INTEGER NOT NULL DEFAULT 0, last_reply TEXT);"
  "CREATE TABLE IF NOT EXISTS vacation ("
  "  sender TEXT NOT NULL, handle TEXT NOT NULL, sent INTEGER NOT NULL,"
  "  PRIMARY KEY (sender, handle));"
  "CREATE TABLE IF NOT EXISTS seen ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL,"
  "  fetched INTEGER NOT NULL, msgid TEXT, size INTEGER,"
  "  PRIMARY KEY (account, folder, uid));"
  "CREATE TABLE IF NOT EXISTS journal ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL,"
  "  name TEXT NOT NULL, started INTEGER NOT NULL, PRIMARY KEY (account, folder, uid));"
  "CREATE TABLE IF NOT EXISTS copied ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL, target TEXT NOT NULL,"
  "  made INTEGER NOT NULL, PRIMARY KEY (account, folder, uid, target));"
  "CREATE TABLE IF NOT EXISTS notice ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL, sent INTEGER NOT NULL,"
  "  PRIMARY KEY (account, folder, uid));"
  "CREATE TABLE IF NOT EXISTS delivered_ids (msgid TEXT PRIMARY KEY, at INTEGER NOT NULL, account TEXT);"
  "CREATE TABLE IF NOT EXISTS duplicate ("
  "  hash TEXT PRIMARY KEY, first INTEGER NOT NULL, last INTEGER NOT NULL);"
  "CREATE INDEX IF NOT EXISTS duplicate_last ON duplicate (last);"
  "CREATE TABLE IF NOT EXISTS account_status ("
  "  account TEXT PRIMARY KEY, last_ok INTEGER, last_error TEXT, last_error_at INTEGER,"
  "  fetched_total INTEGER NOT NULL DEFAULT 0);"
  "INSERT OR IGNORE INTO meta VALUES ('schema', '1');"
  "ALTER TABLE seen ADD COLUMN header_sha256 TEXT;";

/* Run @sql on <@dir>/state.db with a connection of the test's own. */
static void
db_exec (const char *dir, const char *sql)
{
  g_autofree char *path = g_build_filename (dir, "state.db", NULL);
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

/* The first column of each row of @sql's answer, joined by "\n". */
static char *
db_query (const char *dir, const char *sql)
{
  g_autofree char *path = g_build_filename (dir, "state.db", NULL);
  GString *out = g_string_new (NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_string_append_printf (out, "%s%s", out->len ? "\n" : "", (const char *) sqlite3_column_text (st, 0));
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return g_string_free (out, FALSE);
}

static gint64
db_version (const char *dir)
{
  g_autofree char *v = db_query (dir, "PRAGMA user_version");

  return g_ascii_strtoll (v, NULL, 10);
}

/* Every table and index, and each table's columns (name, type, NOT
 * NULL, default, key) in order: what the code relies on, whatever the
 * text of the CREATE statements. */
static char *
db_layout (const char *dir)
{
  return db_query (dir, "SELECT m.type || ' ' || m.name || coalesce (' ' || group_concat (c.name || ':' "
                        "|| c.type || ':' || c.\"notnull\" || ':' || coalesce (c.dflt_value, '-') || ':' "
                        "|| c.pk, ','), '') FROM sqlite_schema AS m LEFT JOIN pragma_table_info (m.name) "
                        "AS c ON m.type = 'table' WHERE m.name NOT LIKE 'sqlite_%' "
                        "GROUP BY m.type, m.name ORDER BY m.type, m.name");
}

/* The layout a new store gets. */
static char *
fresh_layout (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  MsState *s = ms_state_open (dir, &error);

  g_assert_no_error (error);
  ms_state_free (s);
  return db_layout (dir);
}

/* A new store is made at the latest version, with every column; opened
 * again, it stays so. */
static void
test_schema_fresh (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;
  MsState *s = ms_state_open (dir, &error);
  g_autofree char *layout = NULL;
  g_autofree char *again = NULL;

  g_assert_no_error (error);
  ms_state_free (s);
  g_assert_cmpint (db_version (dir), ==, MS_STATE_SCHEMA_VERSION);
  layout = db_layout (dir);
  g_assert_nonnull (strstr (layout, "table seen account:TEXT:1:-:1,folder:TEXT:1:-:2,uid:TEXT:1:-:3,"
                                    "fetched:INTEGER:1:-:0,msgid:TEXT:0:-:0,size:INTEGER:0:-:0,"
                                    "header_sha256:TEXT:0:-:0\n"));
  g_assert_nonnull (strstr (layout, "table delivered_ids msgid:TEXT:0:-:1,at:INTEGER:1:-:0,"
                                    "account:TEXT:0:-:0\n"));
  for (const char *const *t = (const char *const[]) { "index duplicate_last", "table account_status ",
                                                       "table copied ", "table duplicate ",
                                                       "table journal ", "table meta ", "table notice ",
                                                       "table queue ", "table vacation ", NULL };
       *t; t++)
    g_assert_nonnull (strstr (layout, *t));

  s = ms_state_open (dir, &error);
  g_assert_no_error (error);
  ms_state_free (s);
  g_assert_cmpint (db_version (dir), ==, MS_STATE_SCHEMA_VERSION);
  again = db_layout (dir);
  g_assert_cmpstr (again, ==, layout);
}

/* A store of the first layout, with a queued message and a vacation
 * record: it gets the layout of a new store and keeps both rows. */
static void
test_schema_oldest (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *fresh = fresh_layout ();
  g_autofree char *layout = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = NULL;
  g_autoptr (GPtrArray) queue = NULL;
  g_autoptr (GBytes) header = g_bytes_new_static ("Subject: x\n", 11);
  MsQueueEntry *e;
  gboolean same = FALSE, found = FALSE;

  db_exec (dir, layout_oldest);
  db_exec (dir, "INSERT INTO queue (id, created, reason, envelope_from, recipients, origin, file, "
                "attempts, next_try, last_reply) VALUES ('q1', 100, 'redirect', 'me@example.org', "
                "'a@example.org\nb@example.org', '<o@x>', '/q/q1', 2, 300, '451 later');"
                "INSERT INTO vacation VALUES ('alice@example.org', 'h', 50);");
  g_assert_cmpint (db_version (dir), ==, 0);

  s = ms_state_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (db_version (dir), ==, MS_STATE_SCHEMA_VERSION);
  layout = db_layout (dir);
  g_assert_cmpstr (layout, ==, fresh);

  queue = ms_state_queue_list (s, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (queue->len, ==, 1);
  e = queue->pdata[0];
  g_assert_cmpstr (e->id, ==, "q1");
  g_assert_cmpstr (e->recipients[1], ==, "b@example.org");
  g_assert_cmpint (e->attempts, ==, 2);
  g_assert_cmpstr (e->last_reply, ==, "451 later");
  g_assert_true (answered (s, "alice@example.org"));

  /* the tables and columns added since work */
  g_assert_true (ms_state_seen_record (s, "acct", "", "1", 1, "<m@x>", 10, &error));
  g_assert_true (ms_state_seen_set_header (s, "acct", "", "1", header, &error));
  g_assert_true (ms_state_seen_same_message (s, "acct", "", "1", 10, NULL, header, &same, &error));
  g_assert_true (ms_state_msgid_record (s, "<m@x>", "acct", g_get_real_time () / G_USEC_PER_SEC, &error));
  g_assert_true (ms_state_msgid_delivered (s, "<m@x>", "other", 0, &found, &error));
  g_assert_no_error (error);
  g_assert_true (same);
  g_assert_true (found);
}

/* A store whose seen table got msgid and size from the old ALTERs, and
 * whose delivered_ids has no account column yet: the columns it has are
 * kept (no "duplicate column" failure), the missing ones added, and its
 * rows are all there. */
static void
test_schema_partial_alters (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *fresh = fresh_layout ();
  g_autofree char *layout = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = NULL;
  g_autoptr (GHashTable) seen = NULL;
  g_autoptr (GHashTable) identities = NULL;
  g_autoptr (GHashTable) journal = NULL;
  MsAccountStatus status;
  gboolean found = FALSE;

  db_exec (dir, layout_partial);
  db_exec (dir, "INSERT INTO seen VALUES ('acct', 'INBOX', '7:1', 1000, '<m@x>', 1234);"
                "INSERT INTO seen (account, folder, uid, fetched) VALUES ('acct', 'INBOX', '7:2', 1001);"
                "INSERT INTO journal VALUES ('acct', 'INBOX', '7:3', '1000.M1P2.host', 1002);"
                "INSERT INTO delivered_ids VALUES ('<d@x>', strftime ('%s', 'now'));"
                "INSERT INTO account_status (account, last_ok, fetched_total) VALUES ('acct', 1003, 2);");

  s = ms_state_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (db_version (dir), ==, MS_STATE_SCHEMA_VERSION);
  layout = db_layout (dir);
  g_assert_cmpstr (layout, ==, fresh);

  seen = ms_state_seen_all (s, "acct", "INBOX", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 2);
  g_assert_cmpint (*(gint64 *) g_hash_table_lookup (seen, "7:1"), ==, 1000);
  identities = ms_state_seen_identities (s, "acct", "INBOX", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (identities), ==, 1);
  g_assert_true (g_hash_table_contains (identities, "<m@x> 1234"));
  journal = ms_state_journal_all (s, "acct", "INBOX", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (journal, "7:3"), ==, "1000.M1P2.host");
  g_assert_true (ms_state_account_status (s, "acct", &status, &error));
  g_assert_cmpint (status.last_ok, ==, 1003);
  g_assert_cmpint (status.fetched_total, ==, 2);
  g_assert_cmpint (status.seen, ==, 2);
  g_free (status.last_error);
  /* an old entry has no account: a duplicate for every account */
  g_assert_true (ms_state_msgid_delivered (s, "<d@x>", "acct", 0, &found, &error));
  g_assert_no_error (error);
  g_assert_true (found);
}

/* A store of the last version before schema versions has every column
 * already: it only gets its version, and keeps its rows. */
static void
test_schema_last_unversioned (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *fresh = fresh_layout ();
  g_autofree char *layout = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *sql = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) s = NULL;
  g_autoptr (GBytes) header = g_bytes_new_static ("Subject: x\n", 11);
  gboolean same = FALSE, copied = FALSE, found = FALSE;
  gint64 first = 0, last = 0;

  db_exec (dir, layout_last_unversioned);
  sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, header);
  sql = g_strdup_printf ("INSERT INTO seen VALUES ('acct', '', 'u1', 1000, NULL, 10, '%s');"
                         "INSERT INTO copied VALUES ('acct', 'INBOX', '7:1', 'copy:Archive', 1001);"
                         "INSERT INTO duplicate VALUES ('abc', 1002, 1003);", sum);
  db_exec (dir, sql);

  s = ms_state_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (db_version (dir), ==, MS_STATE_SCHEMA_VERSION);
  layout = db_layout (dir);
  g_assert_cmpstr (layout, ==, fresh);
  g_assert_true (ms_state_seen_same_message (s, "acct", "", "u1", 10, NULL, header, &same, &error));
  g_assert_true (ms_state_copy_done (s, "acct", "INBOX", "7:1", "copy:Archive", &copied, &error));
  g_assert_true (ms_state_duplicate_lookup (s, "abc", &found, &first, &last, &error));
  g_assert_no_error (error);
  g_assert_true (same);
  g_assert_true (copied);
  g_assert_true (found);
  g_assert_cmpint (first, ==, 1002);
  g_assert_cmpint (last, ==, 1003);
}

/* A store a newer mailsift made (a version above this build's) is
 * refused, by the agent and by a reader, and left as it is. */
static void
test_schema_too_new (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *sql = g_strdup_printf ("PRAGMA user_version = %d; CREATE TABLE later (x);",
                                          MS_STATE_SCHEMA_VERSION + 1);
  g_autofree char *expected = g_strdup_printf ("state.db: schema version %d, newer than this mailsift "
                                               "knows (%d): ", MS_STATE_SCHEMA_VERSION + 1,
                                               MS_STATE_SCHEMA_VERSION);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;
  MsStateHealth health = MS_STATE_OK;
  MsState *s = ms_state_open (dir, &error);

  g_assert_no_error (error);
  ms_state_free (s);
  db_exec (dir, sql);
  before = db_layout (dir);

  s = ms_state_open_checked (dir, &health, &error);
  g_assert_null (s);
  g_assert_cmpint (health, ==, MS_STATE_UNUSABLE);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, expected));
  g_clear_error (&error);

  s = ms_state_open_readonly (dir, &error);
  g_assert_null (s);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, expected));

  g_assert_cmpint (db_version (dir), ==, MS_STATE_SCHEMA_VERSION + 1);
  after = db_layout (dir);
  g_assert_cmpstr (after, ==, before);
}

/* A step that fails is rolled back as a whole, with an error that names
 * the file and the step; the store is not used. Steps before it stay
 * done, and once the cause is gone the next open goes on from there. */
static void
test_schema_step_fails (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *layout = NULL;
  g_autofree char *queue = NULL;
  g_autoptr (GError) error = NULL;
  MsStateHealth health = MS_STATE_OK;
  MsState *s;

  /* step 1 makes seen, then fails on the index: a table has its name */
  db_exec (dir, layout_oldest);
  db_exec (dir, "INSERT INTO queue (id, created, reason, envelope_from, recipients, file) "
                "VALUES ('q1', 100, 'redirect', '', 'a@example.org', '/q/q1');"
                "CREATE TABLE duplicate_last (x);");
  s = ms_state_open_checked (dir, &health, &error);
  g_assert_null (s);
  g_assert_cmpint (health, ==, MS_STATE_UNUSABLE);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "/state.db: schema migration from version 0 to 1 (make "
                                            "the tables missing): there is already a table named "
                                            "duplicate_last"));
  g_clear_error (&error);
  g_assert_cmpint (db_version (dir), ==, 0);
  layout = db_layout (dir);
  g_assert_cmpstr (layout, ==, "table duplicate_last x::0:-:0\n"
                               "table meta key:TEXT:0:-:1,value:TEXT:0:-:0\n"
                               "table queue id:TEXT:0:-:1,created:INTEGER:1:-:0,reason:TEXT:1:-:0,"
                               "envelope_from:TEXT:1:-:0,recipients:TEXT:1:-:0,origin:TEXT:0:-:0,"
                               "file:TEXT:1:-:0,attempts:INTEGER:1:0:0,next_try:INTEGER:1:0:0,"
                               "last_reply:TEXT:0:-:0\n"
                               "table vacation sender:TEXT:1:-:1,handle:TEXT:1:-:2,sent:INTEGER:1:-:0");
  queue = db_query (dir, "SELECT id FROM queue");
  g_assert_cmpstr (queue, ==, "q1");

  /* step 2 adds seen's columns, then fails on delivered_ids, a view */
  db_exec (dir, "DROP TABLE duplicate_last;"
                "CREATE VIEW delivered_ids AS SELECT 'x' AS msgid, 0 AS at;");
  s = ms_state_open_checked (dir, &health, &error);
  g_assert_null (s);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "/state.db: schema migration from version 1 to 2 (add "
                                            "the columns missing): Cannot add a column to a view"));
  g_clear_error (&error);
  g_assert_cmpint (db_version (dir), ==, 1);
  g_clear_pointer (&layout, g_free);
  layout = db_layout (dir);
  g_assert_nonnull (strstr (layout, "table seen account:TEXT:1:-:1,folder:TEXT:1:-:2,uid:TEXT:1:-:3,"
                                    "fetched:INTEGER:1:-:0\n"));

  db_exec (dir, "DROP VIEW delivered_ids;"
                "CREATE TABLE delivered_ids (msgid TEXT PRIMARY KEY, at INTEGER NOT NULL);");
  s = ms_state_open (dir, &error);
  g_assert_no_error (error);
  ms_state_free (s);
  g_assert_cmpint (db_version (dir), ==, MS_STATE_SCHEMA_VERSION);
  g_clear_pointer (&queue, g_free);
  queue = db_query (dir, "SELECT id FROM queue");
  g_assert_cmpstr (queue, ==, "q1");
}

/* Several processes open a store that does not exist yet at the same
 * moment (accounts fetched in parallel on the first run): each must
 * get it, not "database is locked". Threads with a connection each
 * meet the same locks. */
typedef struct {
  const char *dir;
  gint *go;
  gboolean ok;
  char *why;
} Opener;

static gpointer
open_at_once (gpointer data)
{
  Opener *o = data;
  g_autoptr (GError) error = NULL;
  MsState *s;

  while (!g_atomic_int_get (o->go))
    ;
  s = ms_state_open (o->dir, &error);
  o->ok = s != NULL;
  o->why = error ? g_strdup (error->message) : NULL;
  if (s)
    ms_state_free (s);
  return NULL;
}

static void
test_open_concurrently (void)
{
  for (int round = 0; round < 20; round++)
    {
      g_autofree char *dir = make_dir ();
      Opener o[6];
      GThread *t[6];
      gint go = 0;

      for (int i = 0; i < 6; i++)
        {
          o[i] = (Opener) { dir, &go, FALSE, NULL };
          t[i] = g_thread_new ("open", open_at_once, &o[i]);
        }
      g_atomic_int_set (&go, 1);
      for (int i = 0; i < 6; i++)
        {
          g_thread_join (t[i]);
          if (!o[i].ok)
            g_error ("round %d, opener %d: %s", round, i, o[i].why);
          g_free (o[i].why);
        }
    }
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
  g_test_add_func ("/state/queue-add-failures", test_queue_add_failures);
  g_test_add_func ("/state/schema/fresh", test_schema_fresh);
  g_test_add_func ("/state/schema/oldest", test_schema_oldest);
  g_test_add_func ("/state/schema/partial-alters", test_schema_partial_alters);
  g_test_add_func ("/state/schema/last-unversioned", test_schema_last_unversioned);
  g_test_add_func ("/state/schema/too-new", test_schema_too_new);
  g_test_add_func ("/state/schema/step-fails", test_schema_step_fails);
  g_test_add_func ("/state/open-concurrently", test_open_concurrently);
  return g_test_run ();
}
