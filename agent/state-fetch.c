/* mailsift - the state store: what fetching records (see state.h), per
 * account and folder: the messages seen, the journal of deliveries under
 * way, the server-side copies made, the notes sent about messages over
 * max_message_size; and each account's last result, for `mailsift
 * status`. */
#include "state-private.h"

#include <string.h>

/* ---------------------------------------------------------------- fetch state */

static gboolean
exec_bound (MsState *s, const char *sql, const char *what, GError **error, const char *a,
            const char *b, const char *c, const char *d, gint64 n)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, sql, error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, a, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, b, -1, SQLITE_TRANSIENT);
  if (c)
    sqlite3_bind_text (st, 3, c, -1, SQLITE_TRANSIENT);
  if (d)
    sqlite3_bind_text (st, 4, d, -1, SQLITE_TRANSIENT);
  if (n >= 0)
    sqlite3_bind_int64 (st, d ? 5 : 4, n);
  return write_step (s, &st, what, error);
}

gboolean
ms_state_seen_record (MsState *s, const char *account, const char *folder, const char *uid,
                      gint64 when, const char *msgid, gint64 size, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "INSERT OR REPLACE INTO seen (account, folder, uid, fetched, "
                                            "msgid, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, when);
  sqlite3_bind_text (st, 5, msgid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 6, size);
  return write_step (s, &st, "seen record", error)
         && ms_state_copy_forget (s, account, folder, uid, error);
}

gboolean
ms_state_seen_set_header (MsState *s, const char *account, const char *folder, const char *uid,
                          GBytes *header, GError **error)
{
  g_autofree char *sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, header);

  return exec_bound (s, "UPDATE seen SET header_sha256 = ?4 WHERE account = ?1 AND folder = ?2 "
                     "AND uid = ?3", "seen header", error, account, folder, uid, sum, -1);
}

gboolean
ms_state_seen_same_message (MsState *s, const char *account, const char *folder, const char *uid,
                            gint64 size, const char *msgid, GBytes *header, gboolean *same_out,
                            GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT size, msgid, header_sha256 FROM seen WHERE "
                                            "account = ?1 AND folder = ?2 AND uid = ?3", error);
  g_autofree char *sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, header);
  const char *known_msgid, *known_sum;
  int rc;

  *same_out = FALSE;
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, uid, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return db_error (s, error, "seen lookup");
  known_msgid = (const char *) sqlite3_column_text (st, 1);
  known_sum = (const char *) sqlite3_column_text (st, 2);
  /* a row from before the header was recorded has only the Message-ID */
  *same_out = sqlite3_column_int64 (st, 0) == size
              && (known_sum ? g_strcmp0 (known_sum, sum) == 0
                            : msgid != NULL && g_strcmp0 (known_msgid, msgid) == 0);
  return TRUE;
}

GHashTable *
ms_state_seen_identities (MsState *s, const char *account, const char *folder, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT msgid, size, fetched FROM seen WHERE account = ?1 "
                                            "AND folder = ?2 AND msgid IS NOT NULL", error);
  g_autoptr (GHashTable) out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  int rc;

  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 *when = g_new (gint64, 1);
      *when = sqlite3_column_int64 (st, 2);
      g_hash_table_insert (out, g_strdup_printf ("%s %" G_GINT64_FORMAT, sqlite3_column_text (st, 0),
                                                 (gint64) sqlite3_column_int64 (st, 1)), when);
    }
  if (rc != SQLITE_DONE)
    {
      db_error (s, error, "seen identities");
      return NULL;
    }
  return g_steal_pointer (&out);
}

gboolean
ms_state_seen_forget (MsState *s, const char *account, const char *folder, const char *uid,
                      GError **error)
{
  return exec_bound (s, "DELETE FROM seen WHERE account = ?1 AND folder = ?2 AND uid = ?3",
                     "seen forget", error, account, folder, uid, NULL, -1);
}

GHashTable *
ms_state_seen_all (MsState *s, const char *account, const char *folder, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT uid, fetched FROM seen WHERE account = ?1 "
                                            "AND folder = ?2", error);
  g_autoptr (GHashTable) out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  int rc;

  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 *when = g_new (gint64, 1);
      *when = sqlite3_column_int64 (st, 1);
      g_hash_table_insert (out, column_dup (st, 0), when);
    }
  if (rc != SQLITE_DONE)
    {
      db_error (s, error, "seen list");
      return NULL;
    }
  return g_steal_pointer (&out);
}

gboolean
ms_state_journal_begin (MsState *s, const char *account, const char *folder, const char *uid,
                        const char *name, GError **error)
{
  return exec_bound (s, "INSERT OR REPLACE INTO journal VALUES (?1, ?2, ?3, ?4, ?5)",
                     "journal begin", error, account, folder, uid, name,
                     g_get_real_time () / G_USEC_PER_SEC);
}

gboolean
ms_state_journal_end (MsState *s, const char *account, const char *folder, const char *uid,
                      GError **error)
{
  return exec_bound (s, "DELETE FROM journal WHERE account = ?1 AND folder = ?2 AND uid = ?3",
                     "journal end", error, account, folder, uid, NULL, -1);
}

GHashTable *
ms_state_journal_all (MsState *s, const char *account, const char *folder, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT uid, name FROM journal WHERE account = ?1 "
                                            "AND folder = ?2", error);
  g_autoptr (GHashTable) out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  int rc;

  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_hash_table_insert (out, column_dup (st, 0), column_dup (st, 1));
  if (rc != SQLITE_DONE)
    {
      db_error (s, error, "journal list");
      return NULL;
    }
  return g_steal_pointer (&out);
}

gboolean
ms_state_copies_record (MsState *s, const char *account, const char *folder,
                        const char *const *uids, const char *target, GError **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;

  /* a savepoint inside someone's transaction, or a write kept for a
   * batch's commit, would not be durable */
  g_assert (s->depth == 0 && s->kept == NULL);
  if (!ms_state_txn_begin (&txn, s, error))
    return FALSE;
  for (guint i = 0; uids[i]; i++)
    if (!exec_bound (s, "INSERT OR REPLACE INTO copied VALUES (?1, ?2, ?3, ?4, ?5)", "copy record",
                     error, account, folder, uids[i], target, now))
      return FALSE;
  return ms_state_txn_commit (&txn, error);
}

gboolean
ms_state_copy_done (MsState *s, const char *account, const char *folder, const char *uid,
                    const char *target, gboolean *done_out, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT 1 FROM copied WHERE account = ?1 AND folder = ?2 "
                                            "AND uid = ?3 AND target = ?4", error);
  int rc;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, target, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error (s, error, "copy lookup");
  *done_out = rc == SQLITE_ROW;
  return TRUE;
}

gboolean
ms_state_copy_forget (MsState *s, const char *account, const char *folder, const char *uid,
                      GError **error)
{
  return exec_bound (s, "DELETE FROM copied WHERE account = ?1 AND folder = ?2 AND uid = ?3",
                     "copy forget", error, account, folder, uid, NULL, -1);
}

GHashTable *
ms_state_copy_uids (MsState *s, const char *account, const char *folder, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT DISTINCT uid FROM copied WHERE account = ?1 "
                                            "AND folder = ?2", error);
  g_autoptr (GHashTable) out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  int rc;

  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_hash_table_add (out, column_dup (st, 0));
  if (rc != SQLITE_DONE)
    {
      db_error (s, error, "copy list");
      return NULL;
    }
  return g_steal_pointer (&out);
}

gboolean
ms_state_notice_sent (MsState *s, const char *account, const char *folder, const char *uid,
                      gboolean *sent_out, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT 1 FROM notice WHERE account = ?1 AND folder = ?2 "
                                            "AND uid = ?3", error);
  int rc;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, uid, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error (s, error, "notice lookup");
  *sent_out = rc == SQLITE_ROW;
  return TRUE;
}

gboolean
ms_state_notice_record (MsState *s, const char *account, const char *folder, const char *uid,
                        gint64 when, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "INSERT OR REPLACE INTO notice VALUES (?1, ?2, ?3, ?4)", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, folder, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, uid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, when);
  return write_step (s, &st, "notice record", error);
}

/* ---------------------------------------------------------------- status */

gboolean
ms_state_account_result (MsState *s, const char *account, gboolean ok, const char *error_text,
                         guint fetched, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  st = prepare (s, error_text == NULL
                     ? "INSERT INTO account_status (account, last_ok, fetched_total) VALUES (?1, ?2, ?4) "
                       "ON CONFLICT (account) DO UPDATE SET last_ok = ?2, "
                       "fetched_total = fetched_total + ?4"
                   : !ok
                     ? "INSERT INTO account_status (account, last_error, last_error_at, fetched_total) "
                       "VALUES (?1, ?3, ?2, ?4) ON CONFLICT (account) DO UPDATE SET last_error = ?3, "
                       "last_error_at = ?2, fetched_total = fetched_total + ?4"
                     : "INSERT INTO account_status (account, last_ok, last_error, last_error_at, "
                       "fetched_total) VALUES (?1, ?2, ?3, ?2, ?4) ON CONFLICT (account) DO UPDATE "
                       "SET last_ok = ?2, last_error = ?3, last_error_at = ?2, "
                       "fetched_total = fetched_total + ?4",
                error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, now);
  if (error_text)
    sqlite3_bind_text (st, 3, error_text, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, fetched);
  return write_step (s, &st, "account status", error);
}

gboolean
ms_state_account_status (MsState *s, const char *account, MsAccountStatus *out, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT last_ok, last_error, last_error_at, fetched_total, "
                                            "(SELECT count(*) FROM seen WHERE account = ?1) "
                                            "FROM account_status WHERE account = ?1", error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, account, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      out->last_ok = sqlite3_column_int64 (st, 0);
      out->last_error = column_dup (st, 1);
      out->last_error_at = sqlite3_column_int64 (st, 2);
      out->fetched_total = sqlite3_column_int64 (st, 3);
      out->seen = sqlite3_column_int64 (st, 4);
      return TRUE;
    }
  return rc == SQLITE_DONE || db_error (s, error, "account status");
}
