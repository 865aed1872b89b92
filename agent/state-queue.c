/* mailsift - the state store: the rows of the outbound queue (see
 * state.h). The queue itself, its files and their sending, is queue.c. */
#include "state-private.h"

void
ms_queue_entry_free (MsQueueEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->id);
  g_free (e->reason);
  g_free (e->envelope_from);
  g_strfreev (e->recipients);
  g_free (e->origin);
  g_free (e->file);
  g_free (e->last_reply);
  g_free (e);
}

gboolean
ms_state_queue_insert (MsState *s, const MsQueueEntry *e, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "INSERT INTO queue (id, created, reason, envelope_from, "
                                            "recipients, origin, file, next_try) VALUES "
                                            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", error);
  g_autofree char *rcpts = g_strjoinv ("\n", e->recipients);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, e->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, e->created);
  sqlite3_bind_text (st, 3, e->reason, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, e->envelope_from, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, rcpts, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 6, e->origin, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 7, e->file, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 8, e->next_try);
  return write_step (s, &st, "queue insert", error);
}

gboolean
ms_state_queue_delete (MsState *s, const char *id, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "DELETE FROM queue WHERE id = ?1", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_TRANSIENT);
  return write_step (s, &st, "queue delete", error);
}

GPtrArray *
ms_state_queue_list (MsState *s, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "SELECT id, created, reason, envelope_from, recipients, "
                                            "origin, file, attempts, next_try, last_reply "
                                            "FROM queue ORDER BY created, id", error);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_queue_entry_free);
  int rc;

  if (st == NULL)
    return NULL;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      MsQueueEntry *e = g_new0 (MsQueueEntry, 1);
      g_autofree char *rcpts = column_dup (st, 4);
      e->id = column_dup (st, 0);
      e->created = sqlite3_column_int64 (st, 1);
      e->reason = column_dup (st, 2);
      e->envelope_from = column_dup (st, 3);
      e->recipients = g_strsplit (rcpts ? rcpts : "", "\n", -1);
      e->origin = column_dup (st, 5);
      e->file = column_dup (st, 6);
      e->attempts = sqlite3_column_int (st, 7);
      e->next_try = sqlite3_column_int64 (st, 8);
      e->last_reply = column_dup (st, 9);
      g_ptr_array_add (out, e);
    }
  if (rc != SQLITE_DONE)
    {
      db_error (s, error, "queue list");
      return NULL;
    }
  return g_steal_pointer (&out);
}

gboolean
ms_state_queue_update (MsState *s, const MsQueueEntry *e, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare (s, "UPDATE queue SET recipients = ?2, attempts = ?3, "
                                            "next_try = ?4, last_reply = ?5 WHERE id = ?1", error);
  g_autofree char *rcpts = g_strjoinv ("\n", e->recipients);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, e->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, rcpts, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (st, 3, e->attempts);
  sqlite3_bind_int64 (st, 4, e->next_try);
  sqlite3_bind_text (st, 5, e->last_reply, -1, SQLITE_TRANSIENT);
  return write_step (s, &st, "queue update", error);
}
