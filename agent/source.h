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
  /* IMAP: folder -> UIDNEXT (guint32 *) when the last fetch looked, so
   * that the IDLE wait sees mail that came in since (owned by the caller;
   * NULL: not kept) */
  GHashTable *uidnext;
  /* fileinto_target = server: the source carries out fileinto on the
   * server before the message reaches ms_fetch_deliver_batch(), which
   * then leaves those actions out */
  gboolean fileinto_on_server;
  /* the script reads bodies (ms_pipeline_needs_body, asked once per
   * fetch): what would be a header-only fetch (dry run, fileinto on the
   * server) fetches whole messages, spooled in the Maildir's tmp/ */
  gboolean needs_body;
  MsFetchStats stats;
  /* fetch_deadline: when (monotonic) to stop starting new batches; the
   * connection is dropped `timeout` seconds later if a batch is still
   * coming in. 0: never. */
  gint64 deadline;
  gboolean deadline_hit; /* the fetch stopped there; the rest stays on the server */
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

/* deliver_to = imap:ACCOUNT: a connection to the destination account,
 * opened at the first message; ms_imap_store_append fits
 * MsPipeline.append (folder in UTF-8, created if missing). */
typedef struct _MsImapStore MsImapStore;
MsImapStore *ms_imap_store_new (const MsConfig *config, const MsAccount *target);
gboolean ms_imap_store_append (gpointer store, const char *folder, const char *const *flags,
                               MsSpool *spool, GError **error);
void ms_imap_store_free (MsImapStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsImapStore, ms_imap_store_free)

extern const MsSourceOps ms_source_pop3;
extern const MsSourceOps ms_source_imap;

/* The ops for an account's protocol, or NULL. */
const MsSourceOps *ms_source_for (const MsAccount *account);

typedef enum {
  MS_FETCH_DELIVERED,      /* delivered and recorded: the server may be told */
  MS_FETCH_KEPT_ON_SERVER, /* not delivered (logged, counted, or not reached
                            * because the batch stopped): stays on the server */
} MsFetchOutcome;

/* The most messages fetched and delivered as one batch: one UID FETCH,
 * one journal commit, one fsync per folder, one state commit, one
 * command per kind of server update. */
#define MS_FETCH_BATCH_MAX 128
/* ... and at most this many bytes (as the server counts them), so that
 * an interrupted batch costs little to fetch again */
#define MS_FETCH_BATCH_BYTES (32 * 1024 * 1024)
/* A server may send this many bytes more than the size it gave for a
 * message (RFC822.SIZE, LIST) before the connection is dropped. */
#define MS_FETCH_SIZE_SLACK 4096

/* One fetched message: the source fills uid, server_size and spool (a
 * spool file written with ms_spool_writer_close(): not yet synced). */
typedef struct {
  char *uid;             /* the state key */
  gint64 server_size;
  MsSpool *spool;
  MsFetchOutcome outcome;
} MsFetchItem;

/* Free what an item holds (for a GArray's clear func). */
void ms_fetch_item_clear (gpointer item);

/* Deliver a batch of fetched messages (@items, an array of MsFetchItem)
 * from @folder ("" for POP3):
 *   1. each spool file takes the name a crash left in @journal for its
 *      uid (so a copy already in the Maildir is recognised, not doubled),
 *      is fsync'd, and the batch is journalled in one commit;
 *   2. each message is filtered and delivered (dedupe_message_id applies);
 *   3. each folder written to is fsync'd once and the whole batch is
 *      recorded as seen in one commit.
 * Each item's outcome then says whether the server may be told. FALSE
 * with @error: a temporary failure (disk full...) stopped the batch; the
 * messages delivered before it are recorded and marked DELIVERED. */
gboolean ms_fetch_deliver_batch (MsFetch *fetch, const char *folder, GHashTable *journal,
                                 GArray *items, GError **error);

/* A message over max_message_size stays on the server, and you get a
 * note about it in your INBOX, once. Whether that note is still due (not
 * in a dry run, not sent before): */
gboolean ms_fetch_notice_due (MsFetch *fetch, const char *folder, const char *uid);
/* Write the note for @item (uid, server_size, a header-only spool) and
 * remember it; a failure is logged and tried again next time. */
void ms_fetch_notice_oversize (MsFetch *fetch, const char *folder, const MsFetchItem *item,
                               const char *where);

/* Filter a fetched message (or its header): the plan, as for delivery,
 * with the envelope a fetched message has (Return-Path, your address).
 * Changes nothing. Transfer full. */
MsPlan *ms_fetch_plan (MsFetch *fetch, MsSpool *spool);

/* Dry run: filter a message's header and print what would be done with
 * it (one line, "ACCOUNT WHERE: MESSAGE-ID "SUBJECT" -> actions").
 * Changes nothing anywhere. */
void ms_fetch_dry (MsFetch *fetch, MsSpool *header_only, const char *where);

/* Whether the fetch must stop (fetch_deadline passed): then it starts no
 * new batch, tells the server about what was delivered, logs out and
 * leaves the rest for the next run. Logs it the first time. */
gboolean ms_fetch_deadline_passed (MsFetch *fetch);

/* The network layer's deadline for @fetch: `timeout` after its own, so
 * that a batch under way can finish; 0: none. */
gint64 ms_fetch_net_deadline (const MsFetch *fetch);

/* Drop journal entries, and the records of server-side copies, of
 * messages that are no longer on the server (@present: set of uids):
 * nothing is left to redo for them. */
void ms_fetch_forget_journal (MsFetch *fetch, const char *folder, GHashTable *journal,
                              GHashTable *present);
