/* mailsift - the state store's own types and the helpers its files
 * share: state.c (opening, schema migrations, transactions and batches),
 * state-fetch.c (what fetching records), state-queue.c (the queue's
 * rows) and state-history.c (vacation, Message-ID and duplicate
 * histories). Only those files include this header; everything else
 * sees state.h. */
#pragma once

#include "state.h"

#include <sqlite3.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* A write of a batch, kept until the batch commits: the statement,
 * prepared and bound, not yet stepped. */
typedef struct {
  sqlite3_stmt *st;
  const char *what;
  /* a vacation record, which the batch's later messages must see */
  char *vacation_sender; /* lower case, as the SQL compares it */
  char *vacation_handle;
  gint64 vacation_when;
} KeptWrite;

struct _MsState {
  char *dir;
  sqlite3 *db;
  guint depth;     /* open transactions: the outer one, then savepoints */
  GPtrArray *kept; /* a batch is open: its writes (KeptWrite), in order */
  GArray *marks;   /* kept->len at each begin inside the batch */
  MsStateHealth health;
};

/* Fail with the store's error for @what, and what a person can do about
 * it; sets the health. Always FALSE. */
G_GNUC_INTERNAL gboolean db_error (MsState *s, GError **error, const char *what);

/* A statement for @sql (transfer full), or NULL with @error set. */
G_GNUC_INTERNAL sqlite3_stmt *prepare (MsState *s, const char *sql, GError **error);

/* Make the write @*st, or, in a batch, keep it (taking the statement)
 * for the batch's commit. */
G_GNUC_INTERNAL gboolean write_step (MsState *s, sqlite3_stmt **st, const char *what,
                                     GError **error);

/* Column @i of the current row as a string (transfer full), or NULL. */
G_GNUC_INTERNAL char *column_dup (sqlite3_stmt *st, int i);
