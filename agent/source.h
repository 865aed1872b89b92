/* mailsift - a mail source: one account on one server, as a small vtable
 * (one file per protocol: source-pop3.c, source-imap.c).
 *
 * A source fetches every new message into a spool file and hands it to
 * ms_fetch_deliver(), which runs the pipeline (filter, deliver durably,
 * record as seen in the same transaction); only when that returns TRUE
 * does the source tell the server (DELE, flags, move). */
#pragma once

#include "config.h"
#include "pipeline.h"
#include "spool.h"
#include "state.h"

#include <gio/gio.h>

typedef struct {
  guint messages;     /* delivered this run */
  guint skipped;      /* too big: left on the server */
  guint failed;       /* could not be delivered (kept on the server) */
  guint duplicates;   /* already delivered from another account (dedupe_message_id) */
  guint64 bytes;
  guint total;        /* new messages found */
  GHashTable *folders;/* folder or action -> count, for the summary */
} MsFetchStats;

typedef struct _MsFetch MsFetch;
struct _MsFetch {
  const MsAccount *account;
  const MsConfig *config;
  MsPipeline *pipeline;
  MsState *state;
  gboolean dry_run;
  MsFetchStats stats;
  /* called after each message; may draw a progress line */
  void (*progress) (MsFetch *fetch, gpointer data);
  gpointer progress_data;
};

typedef struct {
  const char *name;
  /* Fetch and deliver everything new; FALSE with @error when the account
   * could not be used (the messages delivered before that stay
   * delivered and recorded). */
  gboolean (*fetch) (MsFetch *fetch, GError **error);
  /* Optional (push): block until the server reports a change, @timeout_s
   * passes or @stop is cancelled. NULL: poll every poll_interval. */
  gboolean (*wait) (MsFetch *fetch, int timeout_s, GCancellable *stop, GError **error);
} MsSourceOps;

extern const MsSourceOps ms_source_pop3;
extern const MsSourceOps ms_source_imap;

/* The ops for an account's protocol, or NULL. */
const MsSourceOps *ms_source_for (const MsAccount *account);

typedef enum {
  MS_FETCH_DELIVERED,      /* delivered and recorded: the server may be told */
  MS_FETCH_KEPT_ON_SERVER, /* this message could not be delivered (logged, counted);
                            * it stays on the server, go on with the next */
  MS_FETCH_STOP,           /* a temporary failure (disk full...): stop, @error set */
} MsFetchOutcome;

/* Run the pipeline on one fetched message. Delivered also covers, with
 * dedupe_message_id, a duplicate of a message delivered before. */
MsFetchOutcome ms_fetch_deliver (MsFetch *fetch, MsSpool *spool, const MsOrigin *origin,
                                 GError **error);

/* Dry run: filter a message's header and print what would be done with
 * it (one line, "ACCOUNT WHERE: MESSAGE-ID "SUBJECT" -> actions").
 * Changes nothing anywhere. */
void ms_fetch_dry (MsFetch *fetch, MsSpool *header_only, const char *where);

/* A Maildir name for a message, reusing the one a crash left in the
 * journal for (folder, uid). Transfer full. */
char *ms_fetch_begin (MsFetch *fetch, const char *folder, const char *uid, GHashTable *journal,
                      GError **error);

/* Drop journal entries of messages that are no longer on the server
 * (@present: set of uids): nothing is left to redo for them. */
void ms_fetch_forget_journal (MsFetch *fetch, const char *folder, GHashTable *journal,
                              GHashTable *present);
