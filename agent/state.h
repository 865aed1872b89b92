/* mailsift - the state store: SQLite (WAL) in <state_dir>/state.db.
 * Holds the outbound queue index, the vacation and duplicate histories;
 * the fetch issues add per-account UID state to the same file. All SQL
 * lives in state.c and the state-*.c files beside it. */
#pragma once

#include <glib.h>

typedef struct _MsState MsState;

/* What a failure of the store says about it: BUSY, another process held
 * its lock longer than the 10 s a writer waits (the next try works);
 * UNUSABLE, it will not work until someone acts: not a database,
 * corrupt, read-only, its disk full or failing, its folder not
 * creatable. The error message says which, and what to do. */
typedef enum {
  MS_STATE_OK,
  MS_STATE_BUSY,
  MS_STATE_UNUSABLE,
} MsStateHealth;

/* The version of the layout of state.db (its PRAGMA user_version) that
 * this build makes and uses. */
#define MS_STATE_SCHEMA_VERSION 2

/* Open (creating the folder with mode 0700 and the schema if needed),
 * taking a store of an older schema version to MS_STATE_SCHEMA_VERSION.
 * Errors: MS_ERROR_TEMPORARY (busy, I/O, unusable: also a store of a
 * newer schema version, or one that a migration step failed on) or
 * MS_ERROR_CONFIG (cannot be created where configured). Transfer full. */
MsState *ms_state_open (const char *state_dir, GError **error);
/* The same; on failure *@health_out (optional) tells BUSY from
 * UNUSABLE. */
MsState *ms_state_open_checked (const char *state_dir, MsStateHealth *health_out, GError **error);
/* Open an existing state store for reading only (the filter process
 * reads the duplicate history this way, and never writes; in its sandbox
 * it can read a store in WAL mode only while another connection, the
 * agent's, has it open, since it cannot create state.db-wal and -shm).
 * A store of an older schema version is read as it is; one of a newer
 * version is refused. Errors:
 * G_FILE_ERROR_NOENT when there is none yet, MS_ERROR_TEMPORARY.
 * Transfer full. */
MsState *ms_state_open_readonly (const char *state_dir, GError **error);
void ms_state_free (MsState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsState, ms_state_free)

const char *ms_state_get_dir (MsState *state);
/* What the last failed call on @state met (MS_STATE_OK: none failed). */
MsStateHealth ms_state_get_health (MsState *state);

/* One transaction around a batch of changes. They nest: inside an open
 * transaction, begin/commit/rollback work on a savepoint, so one message
 * of a batch can be undone while the batch goes on. The outer begin
 * takes the store's write lock until commit or rollback, so keep such a
 * transaction short: no filtering or network waits inside it. */
gboolean ms_state_begin (MsState *state, GError **error);
gboolean ms_state_commit (MsState *state, GError **error);
void ms_state_rollback (MsState *state);

/* The same transaction, rolled back when it goes out of scope without
 * a commit:
 *
 *   g_auto (MsStateTxn) txn = MS_STATE_TXN_INIT;
 *
 *   if (!ms_state_txn_begin (&txn, state, error))
 *     return FALSE;
 *   ... writes: a return from here on rolls them back ...
 *   if (!ms_state_txn_commit (&txn, error))
 *     return FALSE;
 *
 * Guards nest as ms_state_begin does, and must end innermost first
 * (as scopes do). */
typedef struct {
  MsState *state; /* NULL: not open (never begun, committed or rolled back) */
  guint level;    /* the nesting level it opened */
} MsStateTxn;

#define MS_STATE_TXN_INIT { NULL, 0 }

gboolean ms_state_txn_begin (MsStateTxn *txn, MsState *state, GError **error);
/* Commit @txn. When the commit fails it is rolled back, so either way
 * @txn is over. */
gboolean ms_state_txn_commit (MsStateTxn *txn, GError **error);
/* Roll back @txn if it is open; nothing when it is not. */
void ms_state_txn_rollback (MsStateTxn *txn);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MsStateTxn, ms_state_txn_rollback)

/* A batch whose writes wait: from ms_state_batch_begin to
 * ms_state_batch_commit every write is kept in memory (prepared, with
 * its values) instead of being made, so the store stays free for other
 * processes (`deliver`, `status`, other accounts) while the batch
 * filters, delivers and talks to servers; commit then makes them all in
 * one short transaction, in order, and fails (MS_ERROR_TEMPORARY) with
 * nothing made if one of them fails. Inside the batch, begin, commit and
 * rollback nest as savepoints of the kept writes. Reads see the
 * committed store, except that ms_state_vacation_answered_since also sees
 * the batch's kept vacation records. rollback forgets every kept write.
 * No other transaction may be open when the batch begins. */
gboolean ms_state_batch_begin (MsState *state, GError **error);
gboolean ms_state_batch_commit (MsState *state, GError **error);
void ms_state_batch_rollback (MsState *state);

/* Vacation history (RFC 5230 :days): was @sender answered for @handle
 * since @since (unix seconds)? */
gboolean ms_state_vacation_answered_since (MsState *state, const char *sender, const char *handle,
                                           gint64 since, gboolean *answered_out, GError **error);
gboolean ms_state_vacation_record (MsState *state, const char *sender, const char *handle,
                                   gint64 when, GError **error);

typedef struct {
  char *id;
  gint64 created;
  char *reason;        /* redirect, vacation, reject, notify */
  char *envelope_from; /* "" = null sender */
  char **recipients;
  char *origin;        /* Message-ID of the message that caused it */
  char *file;          /* the message to send, inside <state_dir>/queue */
  int attempts;
  gint64 next_try;
  char *last_reply;
} MsQueueEntry;

void ms_queue_entry_free (MsQueueEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsQueueEntry, ms_queue_entry_free)

gboolean ms_state_queue_insert (MsState *state, const MsQueueEntry *entry, GError **error);
gboolean ms_state_queue_delete (MsState *state, const char *id, GError **error);
/* Store recipients, attempts, next_try and last_reply of @entry. */
gboolean ms_state_queue_update (MsState *state, const MsQueueEntry *entry, GError **error);
/* Every entry, oldest first. Element type MsQueueEntry. Transfer full. */
GPtrArray *ms_state_queue_list (MsState *state, GError **error);

/* Fetch state. A message is identified by (account, folder, uid): the
 * POP3 UIDL with folder "", or an IMAP folder and "UIDVALIDITY:UID". */

/* Delivered: never fetch it again. @msgid and @size (of the message as
 * the server counts it) let a folder whose UIDVALIDITY changed be
 * matched again without fetching it all twice. Forgets the server-side
 * copies recorded for it (ms_state_copies_record). */
gboolean ms_state_seen_record (MsState *state, const char *account, const char *folder,
                               const char *uid, gint64 when, const char *msgid, gint64 size,
                               GError **error);
/* Remember a SHA-256 of the header block of a message recorded as seen
 * (in the caller's transaction), for ms_state_seen_same_message. */
gboolean ms_state_seen_set_header (MsState *state, const char *account, const char *folder,
                                   const char *uid, GBytes *header, GError **error);
/* Whether the message the server now lists under @uid, of @size, with
 * @header (its header block) and @msgid (NULL: none), is the one recorded
 * as seen under that uid: a POP3 server may give the UIDL of a deleted
 * message to a new one. FALSE in *@same_out when in doubt (no record, or
 * an old record without a header and no Message-ID to compare). */
gboolean ms_state_seen_same_message (MsState *state, const char *account, const char *folder,
                                     const char *uid, gint64 size, const char *msgid,
                                     GBytes *header, gboolean *same_out, GError **error);
/* "MESSAGE-ID SIZE" -> gint64* fetch time, for the folder's seen
 * messages that have a Message-ID. Transfer full. */
GHashTable *ms_state_seen_identities (MsState *state, const char *account, const char *folder,
                                      GError **error);
gboolean ms_state_seen_forget (MsState *state, const char *account, const char *folder,
                               const char *uid, GError **error);
/* uid -> gint64* fetch time. Transfer full. */
GHashTable *ms_state_seen_all (MsState *state, const char *account, const char *folder,
                               GError **error);

/* The journal of deliveries in flight: written (and committed) before a
 * message is delivered under the Maildir name @name, removed in the same
 * transaction that records it as seen. An entry found at start-up is a
 * delivery a crash interrupted: it is fetched again and delivered under
 * the same name, which finds the copies already made. */
gboolean ms_state_journal_begin (MsState *state, const char *account, const char *folder,
                                 const char *uid, const char *name, GError **error);
gboolean ms_state_journal_end (MsState *state, const char *account, const char *folder,
                               const char *uid, GError **error);
/* uid -> name. Transfer full. */
GHashTable *ms_state_journal_all (MsState *state, const char *account, const char *folder,
                                  GError **error);

/* Copies of a message made on a server before it is recorded as seen:
 * a UID COPY into a folder of the source's own server (fileinto_target =
 * server), an APPEND to another account (deliver_to = imap:). @target
 * names the copy ("copy:FOLDER", "append:ACCOUNT:FOLDER"). A copy is
 * recorded as soon as the server answered OK, so that a run after a
 * failure does not make it again: a crash between the server's OK and
 * the record costs one duplicate, never one per run. The rows of a
 * message go with ms_state_seen_record (in its transaction) or
 * ms_state_copy_forget (the message is gone from the server). */

/* Record that @target holds a copy of each of @uids (NULL-terminated),
 * in a commit of its own: call it outside any transaction. */
gboolean ms_state_copies_record (MsState *state, const char *account, const char *folder,
                                 const char *const *uids, const char *target, GError **error);
gboolean ms_state_copy_done (MsState *state, const char *account, const char *folder,
                             const char *uid, const char *target, gboolean *done_out,
                             GError **error);
gboolean ms_state_copy_forget (MsState *state, const char *account, const char *folder,
                               const char *uid, GError **error);
/* The uids of @folder that have copies recorded (a set). Transfer full. */
GHashTable *ms_state_copy_uids (MsState *state, const char *account, const char *folder,
                                GError **error);

/* What `mailsift status` shows per account. */
typedef struct {
  gint64 last_ok;        /* unix time of the last fetch without error; 0 never */
  char *last_error;      /* NULL: none since the state was made */
  gint64 last_error_at;
  gint64 fetched_total;  /* messages delivered from this account, ever */
  gint64 seen;           /* messages remembered as delivered (still on the server) */
} MsAccountStatus;

/* Record the end of a fetch: @ok when the account could be used (the
 * last fetch is now), @error_text what went wrong, or NULL. Both for a
 * run that left messages on the server. */
gboolean ms_state_account_result (MsState *state, const char *account, gboolean ok,
                                  const char *error_text, guint fetched, GError **error);
/* Fill @out (zeroed when nothing is known); free out->last_error. */
gboolean ms_state_account_status (MsState *state, const char *account, MsAccountStatus *out,
                                  GError **error);

/* Message-ID dedupe across accounts: was @msgid delivered since @since
 * through an account other than @other_than? */
gboolean ms_state_msgid_delivered (MsState *state, const char *msgid, const char *other_than,
                                   gint64 since, gboolean *found_out, GError **error);
/* Remember @msgid (in the caller's transaction); forgets entries older
 * than 30 days. */
gboolean ms_state_msgid_record (MsState *state, const char *msgid, const char *account, gint64 when,
                                GError **error);

/* An flock on <@dir>/@name (the folder and file are made if missing),
 * held until the returned descriptor is closed, or the process ends.
 * With @wait, block until it is free; without, a lock held elsewhere
 * returns -1 with *@busy_out TRUE and no error. Other failures: -1 and
 * @error (MS_ERROR_TEMPORARY). One lock file per guarded thing: an
 * account's fetch, the agent, the queue sender, Message-ID dedupe. */
int ms_lock_file (const char *dir, const char *name, gboolean wait, gboolean *busy_out,
                  GError **error);

/* Notices about a server message (one over max_message_size left on the
 * server): sent once, remembered by (account, folder, uid). */
gboolean ms_state_notice_sent (MsState *state, const char *account, const char *folder,
                               const char *uid, gboolean *sent_out, GError **error);
gboolean ms_state_notice_record (MsState *state, const char *account, const char *folder,
                                 const char *uid, gint64 when, GError **error);

/* Duplicate tracking (Sieve duplicate, RFC 7352), by hash of handle and
 * ID: when it was first recorded (tracking started anew) and last. */
gboolean ms_state_duplicate_lookup (MsState *state, const char *hash, gboolean *found_out,
                                    gint64 *first_out, gint64 *last_out, GError **error);
/* Record that a delivered message's script tested @hash at @when, in the
 * caller's transaction: @seen keeps the first time, otherwise tracking
 * starts at @when. Forgets entries not recorded for @keep_seconds. */
gboolean ms_state_duplicate_record (MsState *state, const char *hash, gboolean seen, gint64 when,
                                    gint64 keep_seconds, GError **error);

/* Small named values of mailsift's own (the meta table); get: NULL when
 * unset. Transfer full. */
char *ms_state_meta_get (MsState *state, const char *key);
gboolean ms_state_meta_set (MsState *state, const char *key, const char *value, GError **error);
