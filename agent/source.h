/* mailsift - fetching: one engine (fetch.c) over the protocol steps a
 * source offers (source-pop3.c, source-imap.c).
 *
 * A source only speaks its protocol: log in, select a folder, list its
 * messages, fetch some of them into spool files, and tell the server
 * what to do with some (remove, mark seen, copy or move). The engine
 * decides everything else, once for both protocols: which messages are
 * new, which were delivered but not yet removed (a crash), which are too
 * big or expired, the batches, dry runs, the journal, and when the
 * server may be told: only after ms_fetch_deliver_batch() (fetch-deliver.c)
 * has filtered, delivered durably and recorded a batch. */
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
  /* kept across the sessions of one run: keys not to ask for again
   * (they came out of step), and keys counted in the stats */
  GHashTable *skip;
  GHashTable *counted;
  /* the source could not go on with this session (a message was not
   * what the listing said): the engine starts a new one, leaving out
   * what went into @skip */
  gboolean out_of_step;
  /* called after each message; may draw a progress line */
  void (*progress) (MsFetch *fetch, gpointer data);
  gpointer progress_data;
};

/* One message as the server lists it. */
typedef struct {
  char *key;     /* the state key: POP3 UIDL, IMAP "UIDVALIDITY:UID" */
  guint64 size;  /* as the server counts it (LIST, RFC822.SIZE); 0: not given */
  guint32 id;    /* what the protocol names it by: POP3 message number, IMAP UID */
} MsSourceMsg;

/* Free what a listed message holds (for a GArray's clear func). */
void ms_source_msg_clear (gpointer msg);

/* What selecting a folder tells. */
typedef struct {
  guint32 validity;  /* IMAP UIDVALIDITY: keys start "VALIDITY:"; 0 for POP3 */
  guint32 next;      /* IMAP UIDNEXT (for the IDLE wait); 0: unknown */
  gboolean exact_move; /* a move can be redone after a crash without a
                        * second copy (MOVE or UIDPLUS) */
  gboolean can_move;   /* the server moves in one step (MOVE) */
} MsFolderInfo;

typedef struct _MsSource MsSource;

/* The protocol steps. Each FALSE sets @error (the session is then
 * closed without LOGOUT/QUIT). Sets of messages are given as arrays of
 * MsSourceMsg ids (guint32). */
typedef struct {
  const char *name;
  const char *key_name; /* what the protocol calls a key, for messages */
  /* IMAP: the account's folders; POP3: one mailbox, named "" */
  gboolean has_folders;
  /* POP3: a key may come back on another message after the first is
   * removed: one recorded as delivered is removed only when its header is
   * the one recorded, and its record goes once the removal is done */
  gboolean keys_reused;
  /* Connect and log in. */
  MsSource *(*open) (MsFetch *fetch, GError **error);
  /* Log out when @ok (POP3: QUIT, which carries out the removals; TRUE
   * when the server confirmed them), else just drop the connection.
   * Frees @source. */
  gboolean (*close) (MsSource *source, gboolean ok, GError **error);
  /* Optional (IMAP): SELECT. */
  gboolean (*select) (MsSource *source, const char *folder, MsFolderInfo *info, GError **error);
  /* Every message in @folder (MsSourceMsg, by id). *@complete_out is
   * FALSE when the server listed only some (then what is missing must
   * not be taken for gone). */
  GArray *(*list) (MsSource *source, const char *folder, gboolean *complete_out, GError **error);
  /* Fetch @n messages (whole, or their header) into spool files, as
   * MsFetchItem in @items, in the order asked for. A message the server
   * will not return is reported, counted as failed and left out. FALSE:
   * the session failed; @items holds what arrived whole before. */
  gboolean (*fetch) (MsSource *source, const char *folder, const MsSourceMsg *msgs, guint n,
                     gboolean header_only, GArray *items, GError **error);
  /* Remove @ids from the server (POP3: DELE, carried out at QUIT). */
  gboolean (*remove) (MsSource *source, GArray *ids, GError **error);
  /* Optional (IMAP): flag @ids \Seen. */
  gboolean (*mark_seen) (MsSource *source, GArray *ids, GError **error);
  /* Optional (IMAP): copy @ids into @target (UTF-7 name), or move them,
   * creating the folder if it is missing. */
  gboolean (*copy) (MsSource *source, GArray *ids, const char *target, gboolean move, GError **error);
  /* Optional (IMAP, after a UIDVALIDITY change): id -> "MESSAGE-ID SIZE"
   * of the messages @msgs that have a Message-ID. */
  GHashTable *(*identify) (MsSource *source, const char *folder, GArray *msgs, GError **error);
  /* How logs name a message: "INBOX UID 7", "message 3". Transfer full. */
  char *(*describe) (const char *folder, const MsSourceMsg *msg);
  /* Optional (push): block until the server reports a change, @timeout_s
   * passes or @stop is cancelled. NULL: poll every poll_interval. */
  gboolean (*wait) (MsFetch *fetch, int timeout_s, GCancellable *stop, GError **error);
} MsSourceOps;

/* Count @n messages that could not be fetched or delivered (they stay on
 * the server). A source calls this from the thread that fetches while
 * the batch before is being delivered. */
void ms_fetch_count_failed (MsFetch *fetch, guint n);

/* Fetch everything new from the account @fetch names, with @ops: deliver
 * it and tell the server. FALSE with @error when the account could not
 * be used (what was delivered before that stays delivered and recorded). */
gboolean ms_fetch_run (MsFetch *fetch, const MsSourceOps *ops, GError **error);

/* The IMAP source's wait step (imap-idle.c). */
gboolean ms_imap_wait (MsFetch *fetch, int timeout_s, GCancellable *stop, GError **error);

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
