/* mailsift - the state store: the histories that keep mailsift from
 * doing a thing twice (see state.h): the vacation answers sent, the
 * Message-IDs delivered (dedupe_message_id) and the Sieve duplicate
 * test's. */
#include "state-private.h"

#include <string.h>

/* ---------------------------------------------------------------- vacation */

gboolean
ms_state_vacation_answered_since (MsState *s, const char *sender, const char *handle, gint64 since,
                                  gboolean *answered_out, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT sent FROM vacation WHERE sender = lower(?1) "
                                            "AND handle = ?2 AND sent >= ?3", error);
  g_autofree char *lower = g_ascii_strdown (sender, -1);
  int rc;

  if (st == NULL)
    return FALSE;
  /* an answer an earlier message of the open batch queued */
  for (guint i = 0; s->kept && i < s->kept->len; i++)
    {
      KeptWrite *k = s->kept->pdata[i];
      if (k->vacation_sender && strcmp (k->vacation_sender, lower) == 0
          && g_strcmp0 (k->vacation_handle, handle) == 0 && k->vacation_when >= since)
        {
          *answered_out = TRUE;
          return TRUE;
        }
    }
  sqlite3_bind_text (st, 1, sender, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, handle, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, since);
  rc = sqlite3_step (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error (s, error, "vacation lookup");
  *answered_out = rc == SQLITE_ROW;
  return TRUE;
}

gboolean
ms_state_vacation_record (MsState *s, const char *sender, const char *handle, gint64 when,
                          GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "INSERT OR REPLACE INTO vacation VALUES "
                                            "(lower(?1), ?2, ?3)", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, sender, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, handle, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, when);
  if (!write_step (s, &st, "vacation record", error))
    return FALSE;
  if (s->kept)
    {
      KeptWrite *k = s->kept->pdata[s->kept->len - 1];
      k->vacation_sender = g_ascii_strdown (sender, -1);
      k->vacation_handle = g_strdup (handle);
      k->vacation_when = when;
    }
  return TRUE;
}

/* ---------------------------------------------------------------- dedupe */

gboolean
ms_state_msgid_delivered (MsState *s, const char *msgid, const char *other_than, gint64 since,
                          gboolean *found_out, GError **error)
{
  /* only a copy that came through another account is a duplicate: one
   * account seeing a Message-ID again is a sender reusing it */
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT 1 FROM delivered_ids WHERE msgid = ?1 AND at >= ?2 "
                                            "AND account IS NOT ?3", error);
  int rc;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, msgid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, since);
  sqlite3_bind_text (st, 3, other_than, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error (s, error, "Message-ID lookup");
  *found_out = rc == SQLITE_ROW;
  return TRUE;
}

gboolean
ms_state_msgid_record (MsState *s, const char *msgid, const char *account, gint64 when, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "INSERT OR REPLACE INTO delivered_ids (msgid, at, account) "
                                            "VALUES (?1, ?2, ?3)", error);
  g_autoptr (sqlite3_stmt) prune = NULL;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, msgid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, when);
  sqlite3_bind_text (st, 3, account, -1, SQLITE_TRANSIENT);
  if (!write_step (s, &st, "Message-ID record", error))
    return FALSE;
  prune = prepare (s, "DELETE FROM delivered_ids WHERE at < ?1", error);
  if (prune == NULL)
    return FALSE;
  sqlite3_bind_int64 (prune, 1, when - 30 * 86400);
  return write_step (s, &prune, "Message-ID prune", error);
}

/* ---------------------------------------------------------------- duplicate */

gboolean
ms_state_duplicate_lookup (MsState *s, const char *hash, gboolean *found_out, gint64 *first_out,
                           gint64 *last_out, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT first, last FROM duplicate WHERE hash = ?1", error);
  int rc;

  *found_out = FALSE;
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, hash, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error (s, error, "duplicate lookup");
  if (rc == SQLITE_ROW)
    {
      *found_out = TRUE;
      *first_out = sqlite3_column_int64 (st, 0);
      *last_out = sqlite3_column_int64 (st, 1);
    }
  return TRUE;
}

gboolean
ms_state_duplicate_record (MsState *s, const char *hash, gboolean seen, gint64 when, gint64 keep_seconds,
                           GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "INSERT INTO duplicate (hash, first, last) VALUES (?1, ?2, ?2) "
                                            "ON CONFLICT (hash) DO UPDATE SET last = ?2, "
                                            "first = CASE WHEN ?3 THEN first ELSE ?2 END", error);
  g_autoptr (sqlite3_stmt) prune = NULL;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, when);
  sqlite3_bind_int (st, 3, seen ? 1 : 0);
  if (!write_step (s, &st, "duplicate record", error))
    return FALSE;
  prune = prepare (s, "DELETE FROM duplicate WHERE last < ?1", error);
  if (prune == NULL)
    return FALSE;
  sqlite3_bind_int64 (prune, 1, when - keep_seconds);
  return write_step (s, &prune, "duplicate prune", error);
}
