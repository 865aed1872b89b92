/* mailsift - running external commands (password_command,
 * oauth2_token_command) with a time limit.
 *
 * Every program mailsift runs on the user's behalf goes through
 * ms_extcmd_run: no shell, standard input from /dev/null, a process group
 * of its own, and a deadline after which the whole group is killed, so a
 * helper that waits for a pinentry nobody sees, or leaves a child behind
 * that holds its output open, cannot hang a fetch with the account lock
 * held. */
#pragma once

#include <glib.h>

/* Most bytes kept of each of standard output and standard error; the
 * rest is read and dropped, so the command never blocks on a full pipe. */
#define MS_EXTCMD_MAX_OUTPUT (64 * 1024)

/* What a command did. Clear with ms_extcmd_result_clear. */
typedef struct {
  char *out;              /* standard output, NUL-terminated (at most MS_EXTCMD_MAX_OUTPUT) */
  char *err;              /* standard error, likewise */
  int wait_status;        /* as from waitpid(); valid when @timed_out is FALSE */
  gboolean timed_out;     /* the deadline passed; the process group was killed */
  gboolean exited_early;  /* with @timed_out: the command itself had exited, but a
                           * process it started still held its output open */
} MsExtcmdResult;

/* Run @argv (argv[0] looked up in PATH; no shell) with standard input
 * from /dev/null, in a new process group, and collect what it writes. It
 * has @timeout_s seconds to exit and to close its output (EOF from every
 * process that holds it). When the time is up, the process group gets
 * SIGTERM, then SIGKILL a second later; output held open by a process
 * outside the group is not waited for.
 * Returns FALSE with @error set when the command cannot be started
 * (MS_ERROR_ACCOUNT) or did not finish in time (MS_ERROR_TEMPORARY, and
 * result->timed_out set). Otherwise TRUE, whatever its exit status.
 * @result is filled in either way; the caller owns it. */
gboolean ms_extcmd_run (const char *const *argv, guint timeout_s, MsExtcmdResult *result,
                        GError **error);

/* Free the output (wiped first: it can hold a password). */
void ms_extcmd_result_clear (MsExtcmdResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MsExtcmdResult, ms_extcmd_result_clear)
