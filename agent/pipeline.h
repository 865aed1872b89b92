/* mailsift - one message through filter and delivery, as a transaction:
 *
 *   spool -> filter (Sieve, isolated) -> plan (policy: folders, vacation,
 *   reject) -> deliver durably (Maildir links, queue files) -> record in
 *   state (one SQLite transaction) -> only then may the source commit.
 *
 * ms_pipeline_plan() decides without changing anything (used by `test`);
 * ms_pipeline_execute() carries a plan out all-or-nothing. Both are in
 * pipeline.c; the policy that a plan passes is in pipeline-policy.c. */
#pragma once

#include "action.h"
#include "address.h"
#include "config.h"
#include "engine.h"
#include "header.h"
#include "spool.h"
#include "state.h"

#include <glib.h>
#include <sys/stat.h>

typedef struct {
  const MsConfig *config;
  MsEngine *engine;
  MsState *state;      /* NULL: no history (dry run) */
  const char *script;  /* overrides config->script; NULL = config's */
  gboolean trace;
  /* deliver_to = imap:ACCOUNT: kept and filed copies are handed to this
   * instead of going into the Maildir; TRUE once the server holds the
   * copy (@folder: "INBOX" for keep). */
  gboolean (*append) (gpointer data, const char *folder, const char *const *flags, MsSpool *spool,
                      GError **error);
  gpointer append_data;
  /* the destination's name (the account), for the record of each APPEND
   * made for a fetched message: a run after a failure does not append
   * again what that server already holds */
  const char *append_to;
  /* private */
  GHashTable *sync_later; /* a batch is open: folders to fsync at its commit */
  GPtrArray *queued_later; /* a batch is open: its queue files, removed if
                            * the batch's records cannot be committed */
  gboolean unbatched;     /* a batch is open, but with append: each message
                           * commits on its own */
  GHashTable *duplicates_pending; /* a batch is open: duplicate hashes its
                                   * messages recorded -> GINT seen, shown to
                                   * the filter until the batch commits */
  guint pending_generation; /* changes with each duplicate mark or
                             * vacation answer recorded */
  char **sieve_options;   /* "name=value" for the Sieve engine, from config */
  struct {
    char *path;           /* the script the result is for */
    struct stat st;
    GPtrArray *errors;    /* lint errors, empty if none */
  } lint;
} MsPipeline;

/* Free what the pipeline cached; the struct itself is the caller's. */
void ms_pipeline_clear (MsPipeline *pipeline);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MsPipeline, ms_pipeline_clear)

typedef struct {
  const char *envelope_from; /* NULL unknown, "" null sender */
  const char *envelope_to;
  const char *message_path;  /* the whole message on disk; NULL when only
                              * the header is at hand (header-only fetch) */
} MsEnvelope;

/* Where a fetched message came from: recorded as seen (and its journal
 * entry closed) in the same transaction as its queue entries. */
typedef struct {
  const char *account;
  const char *folder;
  const char *uid;
  gint64 server_size; /* the size the server reports, for UIDVALIDITY recovery */
} MsOrigin;

typedef struct {
  MsFilterResult *result;  /* final actions */
  GPtrArray *notes;        /* why the plan differs from what the script said */
  MsHeaderView *view;      /* the header as it came */
  GBytes *header;
  char *message_id;        /* for logs; "(no Message-ID)" when absent */
  char *envelope_from;
  char *envelope_to;
  /* private */
  GHashTable *edited_views; /* edits applied -> MsHeaderView*: the header
                             * as an action saw it (editheader) */
  guint pending_generation; /* the pipeline's when the filter ran */
} MsPlan;

/* The header a redirected copy carries: "X-Mailsift-Redirected: IDENTITY;
 * redirected to ADDRESSES". A message that already carries one with your
 * identity is not redirected again (a loop). */
#define MS_TRACE_HEADER "X-Mailsift-Redirected"

/* Who "you" are in trace headers: your first address, else the envelope
 * recipient, else your user name. */
const char *ms_pipeline_identity (const MsConfig *config, const char *envelope_to);

void ms_plan_free (MsPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsPlan, ms_plan_free)

/* Filter a message (its header block and size) and apply policy. Never
 * fails: every problem becomes implicit keep plus a note. Transfer full. */
MsPlan *ms_pipeline_plan (MsPipeline *pipeline, GBytes *header, guint64 size,
                          const MsEnvelope *envelope);

typedef struct {
  GBytes *header;
  guint64 size;
  MsEnvelope envelope;
} MsPlanInput;

/* ms_pipeline_plan for @n messages at once, into @plans[i]: the filter
 * process gets the requests ahead of its replies (ms_engine_run_many),
 * which saves a round trip per message. */
void ms_pipeline_plan_many (MsPipeline *pipeline, guint n, const MsPlanInput *inputs, MsPlan **plans);

/* Whether @plan still holds: in a batch, the duplicate records of the
 * messages delivered since it was made are shown to the filter, so a
 * plan made ahead of them is made again when there are any. */
gboolean ms_pipeline_plan_is_current (const MsPipeline *pipeline, const MsPlan *plan);

/* Whether the script reads message bodies (body, foreverypart, ...):
 * then it must run on the whole message, and a source that would fetch
 * only the header (dry run, fileinto_target = server) fetches the
 * message whole. Asks the filter process (a validation, cheap: it keeps
 * the compiled script); FALSE for no script, libsieve, or a script that
 * does not compile. */
gboolean ms_pipeline_needs_body (MsPipeline *pipeline);

/* Deliver the spooled message as planned. On success every copy is in
 * new/ or cur/ (fsync'd), every outbound message is in the queue and the
 * state is committed. A copy that carries header edits (MsAction.edits)
 * is written first as a file of its own in tmp/ (the edited header, then
 * the rest of the spool file byte for byte), fsync'd, and delivered like
 * the spool file; copies with the same edits share one file. On failure nothing of it remains (MS_ERROR_TEMPORARY:
 * try again). @summary_out gets one line for the log. */
gboolean ms_pipeline_execute (MsPipeline *pipeline, MsPlan *plan, MsSpool *spool,
                              const MsOrigin *origin, char **summary_out, GError **error);

/* For a delivery without the state store (`deliver` when it is
 * unusable, see ms_state_get_health): what needs it is taken out of
 * @plan with a note naming @why. redirect and reject become keep (one
 * INBOX copy, however many they were), vacation and notify are not sent,
 * and the duplicate IDs the script tested are not recorded. TRUE when
 * @plan changed; then ms_pipeline_execute needs no state for it. */
gboolean ms_pipeline_plan_without_state (MsPlan *plan, const char *why);

/* duplicate (RFC 7352): record the IDs @plan's script tested, in the
 * caller's state transaction; for a message delivered without
 * ms_pipeline_execute (filed on the server). Nothing for a failed
 * script. */
gboolean ms_pipeline_record_duplicates (MsPipeline *pipeline, const MsPlan *plan, GError **error);

/* A batch: the executes between begin and commit share one state
 * transaction (each message in a savepoint of its own, so a failed one is
 * undone alone) and one fsync per folder, done by commit before the
 * transaction is committed. The transaction's writes are kept until
 * commit (ms_state_batch_begin), so the store is not locked while the
 * batch's messages are filtered or appended to a server. Until commit
 * returns TRUE the batch's copies are not durable and nothing of it may
 * be told to a server. On failure commit rolls the whole batch back and
 * removes its queue files (the copies stay in the Maildir: a fetch
 * journals its names first, so a retry finds them). With append
 * (deliver_to = imap:) there is no shared transaction: each APPEND is
 * recorded in a commit of its own as soon as the server took it, and
 * each message is recorded on its own. */
gboolean ms_pipeline_batch_begin (MsPipeline *pipeline, GError **error);
gboolean ms_pipeline_batch_commit (MsPipeline *pipeline, GError **error);
