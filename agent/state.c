/* mailsift - the state store (see state.h): opening state.db and taking
 * it up the ladder of schema migrations, transactions and the batch
 * mode, the helpers that the state-*.c files share (state-private.h),
 * the meta table and lock files. What fetching records (seen, journal,
 * copies, notices, account results) is in state-fetch.c, the queue's
 * rows in state-queue.c, the vacation, Message-ID and duplicate
 * histories in state-history.c. */
#include "state-private.h"

#include "deliver-maildir.h"

#include "error.h"

#include <errno.h>
#include <unistd.h>
#include <sys/file.h>
#include <fcntl.h>
#include <sys/stat.h>

static void
kept_write_free (gpointer data)
{
  KeptWrite *k = data;

  sqlite3_finalize (k->st);
  g_free (k->vacation_sender);
  g_free (k->vacation_handle);
  g_free (k);
}

/* Set on every connection that writes. */
static const char pragmas[] =
  "PRAGMA journal_mode=WAL;"
  "PRAGMA synchronous=FULL;";

/* The layout of state.db is numbered by its PRAGMA user_version. Each
 * step of migrations[] (below) takes a store from version N to N + 1 in
 * one transaction with the new number: a store is at one version, never
 * between two, and a step that fails is rolled back and the store not
 * used. A store at a version above the last step was made by a newer
 * mailsift and is refused, never changed back.
 *
 * Every mailsift before these versions left user_version at 0. It made
 * the tables it knew where they were missing, in the form each had when
 * it was first made, and on every open added the columns of later
 * versions with ALTER TABLE, ignoring the errors. So version 0 is a new,
 * empty file, or any of the layouts those left: each table as first
 * made, or absent when it came later; each later column there or not
 * (a file made before it came, and opened by no version that added it,
 * lacks it). Steps 1 and 2 take all of them: a table is made only where
 * missing, a column added only where PRAGMA table_info lacks it. A later
 * step sees only the layout of the version before it, and needs neither. */

/* Step 1: every table, as the mailsift that first made it made it. */
static const char first_tables[] =
  /* the first store: queue and vacation history */
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
  "CREATE TABLE IF NOT EXISTS queue ("
  "  id TEXT PRIMARY KEY, created INTEGER NOT NULL, reason TEXT NOT NULL,"
  "  envelope_from TEXT NOT NULL, recipients TEXT NOT NULL, origin TEXT,"
  "  file TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_try INTEGER NOT NULL DEFAULT 0, last_reply TEXT);"
  "CREATE TABLE IF NOT EXISTS vacation ("
  "  sender TEXT NOT NULL, handle TEXT NOT NULL, sent INTEGER NOT NULL,"
  "  PRIMARY KEY (sender, handle));"
  /* fetch */
  "CREATE TABLE IF NOT EXISTS seen ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL,"
  "  fetched INTEGER NOT NULL, PRIMARY KEY (account, folder, uid));"
  "CREATE TABLE IF NOT EXISTS journal ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL,"
  "  name TEXT NOT NULL, started INTEGER NOT NULL, PRIMARY KEY (account, folder, uid));"
  /* mailsift status */
  "CREATE TABLE IF NOT EXISTS account_status ("
  "  account TEXT PRIMARY KEY, last_ok INTEGER, last_error TEXT, last_error_at INTEGER,"
  "  fetched_total INTEGER NOT NULL DEFAULT 0);"
  /* dedupe_message_id */
  "CREATE TABLE IF NOT EXISTS delivered_ids (msgid TEXT PRIMARY KEY, at INTEGER NOT NULL);"
  /* notes about messages over max_message_size */
  "CREATE TABLE IF NOT EXISTS notice ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL, sent INTEGER NOT NULL,"
  "  PRIMARY KEY (account, folder, uid));"
  /* Sieve duplicate */
  "CREATE TABLE IF NOT EXISTS duplicate ("
  "  hash TEXT PRIMARY KEY, first INTEGER NOT NULL, last INTEGER NOT NULL);"
  "CREATE INDEX IF NOT EXISTS duplicate_last ON duplicate (last);"
  /* server-side COPY and APPEND */
  "CREATE TABLE IF NOT EXISTS copied ("
  "  account TEXT NOT NULL, folder TEXT NOT NULL, uid TEXT NOT NULL, target TEXT NOT NULL,"
  "  made INTEGER NOT NULL, PRIMARY KEY (account, folder, uid, target));";

/* What a person can do about an error of the store, by SQLite's
 * primary result code; NULL when there is nothing to say. */
static const char *
advice (int code)
{
  switch (code & 0xff)
    {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return "move it aside (with any state.db-wal and state.db-shm beside it) to start a fresh "
             "one, which forgets the seen messages, the queue and the vacation and duplicate history";
    case SQLITE_FULL:
      return "free some space on its disk";
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return "make it and its folder writable for this user";
    case SQLITE_IOERR:
      return "check the disk that holds it (full, failing or unmounted)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "another mailsift held it too long; this is tried again";
    default:
      return NULL;
    }
}

gboolean
db_error (MsState *s, GError **error, const char *what)
{
  int code = s->db ? sqlite3_extended_errcode (s->db) : SQLITE_NOMEM;
  const char *todo = advice (code);

  /* whatever it is (busy, full, I/O, corrupt), the operation is not done:
   * nothing may be delivered without its record, so it is temporary; a
   * busy store will work on the next try, an unusable one not until
   * someone acts, and `deliver` works around that (ms_state_get_health) */
  s->health = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED ? MS_STATE_BUSY
                                                                             : MS_STATE_UNUSABLE;
  g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "state store %s/state.db: %s: %s%s%s", s->dir, what,
               s->db ? sqlite3_errmsg (s->db) : "out of memory", todo ? "; " : "", todo ? todo : "");
  return FALSE;
}

static gboolean
migrate_first_tables (sqlite3 *db)
{
  return sqlite3_exec (db, first_tables, NULL, NULL, NULL) == SQLITE_OK;
}

/* Add @column, of @type, to @table unless it has it. */
static gboolean
add_column (sqlite3 *db, const char *table, const char *column, const char *type)
{
  sqlite3_stmt *st = NULL;
  g_autofree char *sql = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM pragma_table_info (?1) WHERE name = ?2 COLLATE NOCASE",
                          -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, column, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  /* now: finalizing later would clear the error of the ALTER */
  sqlite3_finalize (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    return FALSE;
  sql = g_strdup_printf ("ALTER TABLE %s ADD COLUMN %s %s", table, column, type);
  return sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* Step 2: the columns added to tables after they were first made, in
 * the order they came. */
static gboolean
migrate_later_columns (sqlite3 *db)
{
  return add_column (db, "seen", "msgid", "TEXT")            /* UIDVALIDITY recovery */
         && add_column (db, "seen", "size", "INTEGER")
         && add_column (db, "delivered_ids", "account", "TEXT") /* dedupe across accounts */
         && add_column (db, "seen", "header_sha256", "TEXT");   /* reused POP3 UIDLs */
}

/* migrations[N] takes a store from version N to N + 1. FALSE: it failed,
 * with the connection's error. A new step goes at the end, and
 * MS_STATE_SCHEMA_VERSION grows by one. */
static const struct {
  const char *what;
  gboolean (*run) (sqlite3 *db);
} migrations[] = {
  { "make the tables missing", migrate_first_tables },
  { "add the columns missing", migrate_later_columns },
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == MS_STATE_SCHEMA_VERSION);

static gboolean
read_version (MsState *s, gint64 *version_out, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;

  if (sqlite3_prepare_v2 (s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK
      || sqlite3_step (st) != SQLITE_ROW)
    return db_error (s, error, "schema version");
  *version_out = sqlite3_column_int64 (st, 0);
  return TRUE;
}

/* FALSE, with @error, for a version this build does not know. */
static gboolean
version_known (MsState *s, gint64 version, GError **error)
{
  if (version >= 0 && version <= MS_STATE_SCHEMA_VERSION)
    return TRUE;
  s->health = MS_STATE_UNUSABLE;
  g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY,
               "state store %s/state.db: schema version %" G_GINT64_FORMAT ", newer than this "
               "mailsift knows (%d): a newer mailsift has used it; use that one (this one does not "
               "change it back)", s->dir, version, MS_STATE_SCHEMA_VERSION);
  return FALSE;
}

/* The pragmas of a writing connection. Turning a new file to WAL needs
 * it to itself: while other processes open it at the same moment (the
 * accounts of a first run), SQLite says SQLITE_BUSY at once, without
 * its busy handler, so the wait is done here, as long as the busy
 * timeout. */
static int
exec_pragmas (sqlite3 *db)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int r;

  while ((r = sqlite3_exec (db, pragmas, NULL, NULL, NULL)) == SQLITE_BUSY
         && g_get_monotonic_time () < end)
    g_usleep (10000 + g_random_int_range (0, 10000));
  return r;
}

/* Take the store to MS_STATE_SCHEMA_VERSION, a step at a time. */
static gboolean
migrate (MsState *s, GError **error)
{
  gint64 version;

  if (!read_version (s, &version, error))
    return FALSE;
  while (version >= 0 && version < MS_STATE_SCHEMA_VERSION)
    {
      g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;
      g_autofree char *step = NULL;
      g_autofree char *bump = NULL;

      /* the version again, under the write lock: another process may
       * have taken the step meanwhile */
      if (!ms_state_txn_begin (&txn, s, error) || !read_version (s, &version, error))
        return FALSE;
      if (version < 0 || version >= MS_STATE_SCHEMA_VERSION)
        break;
      step = g_strdup_printf ("schema migration from version %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                              " (%s)", version, version + 1, migrations[version].what);
      bump = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, version + 1);
      if (!migrations[version].run (s->db) || sqlite3_exec (s->db, bump, NULL, NULL, NULL) != SQLITE_OK)
        return db_error (s, error, step);
      if (!ms_state_txn_commit (&txn, error))
        {
          g_prefix_error (error, "%s: ", step);
          return FALSE;
        }
      version++;
    }
  return version_known (s, version, error);
}

MsState *
ms_state_open (const char *dir, GError **error)
{
  return ms_state_open_checked (dir, NULL, error);
}

MsState *
ms_state_open_checked (const char *dir, MsStateHealth *health_out, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "state.db", NULL);
  MsState *s;

  if (health_out)
    *health_out = MS_STATE_OK;
  /* made durably: losing the folder's entry would lose the journal */
  if (!ms_mkdir_synced (dir, error))
    {
      g_prefix_error (error, "state folder: ");
      if (error && *error)
        (*error)->code = MS_ERROR_CONFIG;
      if (health_out)
        *health_out = MS_STATE_UNUSABLE;
      return NULL;
    }
  s = g_new0 (MsState, 1);
  s->dir = g_strdup (dir);
  if (sqlite3_open_v2 (path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK
      || sqlite3_busy_timeout (s->db, 10000) != SQLITE_OK
      || exec_pragmas (s->db) != SQLITE_OK)
    db_error (s, error, "cannot open");
  else if (migrate (s, error))
    {
      chmod (path, 0600);
      return s;
    }
  if (health_out)
    *health_out = s->health;
  ms_state_free (s);
  return NULL;
}

MsState *
ms_state_open_readonly (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "state.db", NULL);
  MsState *s;
  gint64 version;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s does not exist", path);
      return NULL;
    }
  s = g_new0 (MsState, 1);
  s->dir = g_strdup (dir);
  /* a reader never waits long: the agent's writes are short */
  /* one read at once: it finds the write-ahead log (state.db-wal and
   * -shm) now, and, where this process may, creates them; while it stays
   * open they stay there for the sandboxed filter process, which may not */
  if (sqlite3_open_v2 (path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
      || sqlite3_busy_timeout (s->db, 1000) != SQLITE_OK
      || sqlite3_exec (s->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK)
    db_error (s, error, "cannot open");
  /* an older version is read as it is: a reader cannot migrate */
  else if (read_version (s, &version, error) && version_known (s, version, error))
    return s;
  ms_state_free (s);
  return NULL;
}

void
ms_state_free (MsState *s)
{
  if (s == NULL)
    return;
  g_clear_pointer (&s->kept, g_ptr_array_unref);
  g_clear_pointer (&s->marks, g_array_unref);
  sqlite3_close (s->db);
  g_free (s->dir);
  g_free (s);
}

const char *
ms_state_get_dir (MsState *s)
{
  return s->dir;
}

MsStateHealth
ms_state_get_health (MsState *s)
{
  return s->health;
}

gboolean
ms_state_begin (MsState *s, GError **error)
{
  g_autofree char *sql = NULL;

  if (s->kept)
    {
      /* in a batch: a savepoint of the kept writes */
      guint mark = s->kept->len;
      g_array_append_val (s->marks, mark);
      return TRUE;
    }
  sql = s->depth == 0 ? g_strdup ("BEGIN IMMEDIATE") : g_strdup_printf ("SAVEPOINT s%u", s->depth);

  if (sqlite3_exec (s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error (s, error, "begin");
  s->depth++;
  return TRUE;
}

gboolean
ms_state_commit (MsState *s, GError **error)
{
  g_autofree char *sql = NULL;

  if (s->kept)
    {
      g_return_val_if_fail (s->marks->len > 0, FALSE);
      g_array_set_size (s->marks, s->marks->len - 1);
      return TRUE;
    }
  g_return_val_if_fail (s->depth > 0, FALSE);
  sql = s->depth == 1 ? g_strdup ("COMMIT") : g_strdup_printf ("RELEASE s%u", s->depth - 1);
  if (sqlite3_exec (s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error (s, error, "commit");
  s->depth--;
  return TRUE;
}

void
ms_state_rollback (MsState *s)
{
  g_autofree char *sql = NULL;

  if (s->kept)
    {
      g_return_if_fail (s->marks->len > 0);
      g_ptr_array_set_size (s->kept, g_array_index (s->marks, guint, s->marks->len - 1));
      g_array_set_size (s->marks, s->marks->len - 1);
      return;
    }
  g_return_if_fail (s->depth > 0);
  sql = s->depth == 1 ? g_strdup ("ROLLBACK")
                      : g_strdup_printf ("ROLLBACK TO s%u; RELEASE s%u", s->depth - 1, s->depth - 1);
  sqlite3_exec (s->db, sql, NULL, NULL, NULL);
  s->depth--;
}

/* How many transactions are open: savepoints in a batch, or the outer
 * one and its savepoints. */
static guint
txn_level (MsState *s)
{
  return s->kept ? s->marks->len : s->depth;
}

gboolean
ms_state_txn_begin (MsStateTxn *txn, MsState *s, GError **error)
{
  g_return_val_if_fail (txn->state == NULL, FALSE);
  if (!ms_state_begin (s, error))
    return FALSE;
  txn->state = s;
  txn->level = txn_level (s);
  return TRUE;
}

gboolean
ms_state_txn_commit (MsStateTxn *txn, GError **error)
{
  MsState *s = g_steal_pointer (&txn->state);

  g_return_val_if_fail (s != NULL, FALSE);
  g_warn_if_fail (txn_level (s) == txn->level);
  if (ms_state_commit (s, error))
    return TRUE;
  /* a failed COMMIT can leave the transaction open, with the write lock */
  ms_state_rollback (s);
  return FALSE;
}

void
ms_state_txn_rollback (MsStateTxn *txn)
{
  MsState *s = g_steal_pointer (&txn->state);

  if (s == NULL)
    return;
  g_warn_if_fail (txn_level (s) == txn->level);
  ms_state_rollback (s);
}

sqlite3_stmt *
prepare (MsState *s, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      db_error (s, error, "prepare");
      return NULL;
    }
  return st;
}

/* Make the write @*st, or, in a batch, keep it (taking the statement)
 * for the batch's commit. */
gboolean
write_step (MsState *s, sqlite3_stmt **st, const char *what, GError **error)
{
  KeptWrite *k;

  if (s->kept == NULL)
    return sqlite3_step (*st) == SQLITE_DONE || db_error (s, error, what);
  k = g_new0 (KeptWrite, 1);
  k->st = g_steal_pointer (st);
  k->what = what;
  g_ptr_array_add (s->kept, k);
  return TRUE;
}

char *
column_dup (sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text (st, i);
  return t ? g_strdup ((const char *) t) : NULL;
}

gboolean
ms_state_batch_begin (MsState *s, GError **error)
{
  g_return_val_if_fail (s->kept == NULL && s->depth == 0, FALSE);
  (void) error;
  s->kept = g_ptr_array_new_with_free_func (kept_write_free);
  s->marks = g_array_new (FALSE, FALSE, sizeof (guint));
  return TRUE;
}

gboolean
ms_state_batch_commit (MsState *s, GError **error)
{
  g_autoptr (GPtrArray) kept = g_steal_pointer (&s->kept);
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

  g_return_val_if_fail (kept != NULL, FALSE);
  g_warn_if_fail (s->marks->len == 0);
  g_clear_pointer (&s->marks, g_array_unref);
  if (kept->len == 0)
    return TRUE;
  if (!ms_state_txn_begin (&txn, s, error))
    return FALSE;
  for (guint i = 0; i < kept->len; i++)
    {
      KeptWrite *k = kept->pdata[i];
      if (sqlite3_step (k->st) != SQLITE_DONE)
        return db_error (s, error, k->what);
    }
  return ms_state_txn_commit (&txn, error);
}

void
ms_state_batch_rollback (MsState *s)
{
  g_return_if_fail (s->kept != NULL);
  g_clear_pointer (&s->kept, g_ptr_array_unref);
  g_clear_pointer (&s->marks, g_array_unref);
}

int
ms_lock_file (const char *dir, const char *name, gboolean wait, gboolean *busy_out, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd;

  if (busy_out)
    *busy_out = FALSE;
  if (!ms_mkdir_synced (dir, error))
    return -1;
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return (ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot open %s", path), -1);
  if (flock (fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;
      close (fd);
      if (saved == EWOULDBLOCK && busy_out)
        *busy_out = TRUE;
      else
        ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot lock %s", path);
      return -1;
    }
  return fd;
}

char *
ms_state_meta_get (MsState *s, const char *key)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT value FROM meta WHERE key = ?1", NULL);

  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
  return sqlite3_step (st) == SQLITE_ROW ? g_strdup ((const char *) sqlite3_column_text (st, 0)) : NULL;
}

gboolean
ms_state_meta_set (MsState *s, const char *key, const char *value, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "INSERT OR REPLACE INTO meta VALUES (?1, ?2)", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, value, -1, SQLITE_TRANSIENT);
  return write_step (s, &st, "meta record", error);
}
