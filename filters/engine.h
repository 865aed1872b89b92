/* mailsift - the Sieve engine, isolated in a filter process.
 *
 * libsieve 2.2.6 crashes, hangs and keeps global state (see the libsieve
 * notes), so it only ever runs in a child process: `mailsift filter-worker`,
 * the same binary. The agent talks to it through this interface; nothing
 * outside filters/ includes sieve2.h. The child is reused across messages,
 * gets a fresh libsieve context per message, a CPU and memory limit, and a
 * wall-clock deadline; a child that dies or overruns is killed, the message
 * is kept unfiltered, and the next request starts a new child. */
#pragma once

#include "action.h"

#include <glib.h>

typedef enum {
  MS_FILTER_EXECUTE,
  MS_FILTER_VALIDATE,
} MsFilterMode;

/* Which Sieve implementation runs the script. */
typedef enum {
  MS_SIEVE_MAILSIFT, /* mailsift's own engine (filters/sieve-*.c) */
  MS_SIEVE_LIBSIEVE, /* libsieve 2.2.6 */
} MsSieveBackend;

typedef struct {
  MsFilterMode mode;
  MsSieveBackend backend;           /* set by ms_engine_run from the engine */
  const char *script_path;
  GBytes *header;                   /* raw header block (execute) */
  guint64 size;                     /* message size in bytes */
  const char *envelope_from;        /* "" for the null sender */
  const char *envelope_to;
  const char *subaddress_separator; /* e.g. "+" */
  gboolean trace;
  const char *message_path;         /* the whole message (header and body) on
                                     * disk, read-only; NULL: header only */
  const char *const *options;       /* "name=value" settings and facts for
                                     * extensions; NULL for none */
} MsFilterRequest;

typedef struct _MsEngine MsEngine;

/* duplicate (RFC 7352): the filter process reads the duplicate history
 * the agent keeps in its state store (the request's "state_dir" option)
 * and never writes it; the agent records what the result says once the
 * message is delivered. The reader sets *@found_out and, when found, the
 * unix times the entry was first and last recorded; FALSE with @error
 * when the history cannot be read. */
typedef gboolean (*MsDuplicateLookup) (const char *state_dir, const char *hash, gboolean *found_out,
                                       gint64 *first_out, gint64 *last_out, GError **error);

/* Install the reader (the filter process installs one on the state
 * store; tests a fake). Without one, nothing was seen before. */
void ms_engine_set_duplicate_lookup (MsDuplicateLookup lookup);
MsDuplicateLookup ms_engine_get_duplicate_lookup (void);

/* The value of option @name in @request->options, or NULL. */
const char *ms_filter_request_option (const MsFilterRequest *request, const char *name);

/* @self_exe: the mailsift binary to run as filter process; @backend:
 * the Sieve implementation it runs.
 * @timeout_s: wall-clock seconds per request; @memory_mib: RLIMIT_AS in MiB,
 * 0 for none (test builds only: the configuration refuses 0 elsewhere). */
MsEngine *ms_engine_new (const char *self_exe, MsSieveBackend backend, int timeout_s, int memory_mib);
MsSieveBackend ms_engine_get_backend (const MsEngine *engine);
void ms_engine_free (MsEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsEngine, ms_engine_free)

/* Run one request in the filter process. Never fails: a broken script, a
 * crash or a timeout gives a result with failed set, the reason in
 * failure, and (after ms_filter_result_finish, which this calls) an
 * implicit keep. Transfer full. */
MsFilterResult *ms_engine_run (MsEngine *engine, const MsFilterRequest *request);

/* Run @n requests as ms_engine_run does, each into @results[i], sending
 * them ahead of the replies: the filter process works on one while the
 * next ones are on their way, with no round trip per message. Each
 * request has filter_timeout from the reply before it; a request the
 * process fails on gets a failed result, and a new process takes the
 * rest. */
void ms_engine_run_many (MsEngine *engine, const MsFilterRequest *const *requests, guint n,
                         MsFilterResult **results);

/* The agent's log level ("notice", "info", "debug"; NULL: notice), which
 * the filter processes it starts log at. */
void ms_engine_set_log_level (MsEngine *engine, const char *level);

/* The filter process's main loop: read requests from @in_fd, answer on
 * @out_fd, until EOF. @sandbox says what sandbox the process is in (see
 * sandbox.h), for --trace. Returns the exit status. */
int ms_engine_serve (int in_fd, int out_fd, int cpu_seconds, const char *sandbox);

