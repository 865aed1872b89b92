/* mailsift - the filter process's sandbox.
 *
 * The filter process (`mailsift filter-worker`, see engine.h) runs the
 * user's Sieve script on attacker-controlled messages, through GMime and
 * libsieve. Once it has started it only reads: the scripts, the message
 * files, the duplicate history, its libraries and locale data, and
 * /proc/self/status. ms_sandbox_enter makes everything else fail:
 *
 *   - no_new_privs (no setuid gain through exec; needed by the rest);
 *   - Landlock, where the kernel has it: files and directories anywhere
 *     can be read and listed, nothing can be written, created, removed,
 *     renamed, linked, truncated or executed; with Landlock ABI 4 no TCP
 *     bind or connect, with ABI 6 no abstract UNIX sockets or signals to
 *     processes outside the sandbox;
 *   - a seccomp filter (x86_64 and aarch64): no sockets, exec, new
 *     processes (threads are allowed), ptrace, opening files for writing,
 *     changing files (unlink, rename, mkdir, chmod, chown, utimes, xattrs),
 *     mounts and namespaces, io_uring, bpf, keyrings, and terminal input
 *     injection. Denied calls fail with EACCES (opening) or EPERM, so
 *     GLib, GMime and SQLite report an error and go on; only a system call
 *     of another architecture (x32, i386 on x86_64) kills the process.
 *
 * Each part is applied when the kernel allows it. A kernel (or container)
 * without it leaves that part out: the filter process still runs, and the
 * summary says what is missing. The rlimits set by the agent before exec
 * stay as they are. Call it while the process has one thread: Landlock and
 * prctl(PR_SET_SECCOMP) apply to the calling thread (and those it starts). */
#pragma once

#include <glib.h>

typedef struct {
  gboolean no_new_privs;
  int landlock_abi;   /* the kernel's Landlock ABI version, 0: none */
  gboolean landlock;  /* the Landlock rules are in force */
  gboolean seccomp;   /* the seccomp filter is in force */
  gboolean complete;  /* all of the above */
  char *summary;      /* one line: what is in force and what is not, why */
} MsSandbox;

/* Apply all it can to this process, for good; never fails. */
void ms_sandbox_enter (MsSandbox *sandbox);
void ms_sandbox_clear (MsSandbox *sandbox);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MsSandbox, ms_sandbox_clear)

/* The parts, for the tests. The Landlock ABI version (0: none, with
 * @error); Landlock and seccomp need no_new_privs (or CAP_SYS_ADMIN). */
gboolean ms_sandbox_no_new_privs (GError **error);
int ms_sandbox_landlock_abi (GError **error);
gboolean ms_sandbox_landlock (GError **error);
gboolean ms_sandbox_seccomp (GError **error);
