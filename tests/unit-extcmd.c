/* Unit tests: external commands run with a time limit (agent/extcmd.c). */
#include "extcmd.h"
#include "error.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

/* Run `sh -c SCRIPT` with @timeout_s; the seconds it took. */
static double
run_sh (const char *script, guint timeout_s, MsExtcmdResult *res, GError **error)
{
  const char *argv[] = { "sh", "-c", script, NULL };
  gint64 start = g_get_monotonic_time ();

  ms_extcmd_run (argv, timeout_s, res, error);
  return (g_get_monotonic_time () - start) / 1e6;
}

/* Whether process @pid is gone (a zombie of ours counts as gone). */
static gboolean
gone (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *state;

  if (kill (pid, 0) < 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  state = strrchr (stat, ')');
  return state && state[1] == ' ' && state[2] == 'Z';
}

static void
test_ok (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;

  run_sh ("echo out; echo err >&2; exit 3", 5, &res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (res.out, ==, "out\n");
  g_assert_cmpstr (res.err, ==, "err\n");
  g_assert_false (res.timed_out);
  g_assert_true (WIFEXITED (res.wait_status));
  g_assert_cmpint (WEXITSTATUS (res.wait_status), ==, 3);
}

/* Standard input is /dev/null: a command that reads it gets EOF at once,
 * and nothing it does can reach a terminal through it. */
static void
test_stdin_null (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;
  double secs = run_sh ("read line; echo \"read $?\"; readlink /proc/self/fd/0", 5, &res, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (res.out, ==, "read 1\n/dev/null\n");
  g_assert_cmpfloat (secs, <, 3);
}

/* It runs in a process group of its own, with the signals a mailsift
 * process ignores back at their defaults. */
static void
test_group (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *script = g_strdup ("set -- $(cut -d' ' -f5 /proc/$$/stat); echo \"$$ $1\"; "
                                      "grep ^SigIgn /proc/$$/status");
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) ids = NULL;
  const int mine[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP };
  guint64 ignored;

  signal (SIGPIPE, SIG_IGN); /* as mailsift's main() does */
  run_sh (script, 5, &res, &error);
  g_assert_no_error (error);
  lines = g_strsplit (res.out, "\n", -1);
  ids = g_strsplit (lines[0], " ", -1);
  g_assert_cmpstr (ids[0], ==, ids[1]); /* pgid == pid */
  g_assert_nonnull (lines[1]);
  g_assert_true (g_str_has_prefix (lines[1], "SigIgn:\t"));
  ignored = g_ascii_strtoull (lines[1] + strlen ("SigIgn:\t"), NULL, 16);
  for (guint i = 0; i < G_N_ELEMENTS (mine); i++)
    g_assert_false (ignored & (G_GUINT64_CONSTANT (1) << (mine[i] - 1)));
}

static void
test_timeout (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;
  double secs = run_sh ("echo partial; exec sleep 600", 1, &res, &error);

  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_true (res.timed_out);
  g_assert_false (res.exited_early);
  g_assert_cmpfloat (secs, >=, 0.9);
  g_assert_cmpfloat (secs, <, 4);
  g_assert_cmpstr (res.out, ==, "partial\n");
}

/* The command exits at once, but a child it started in the background
 * keeps standard output open: that is not waited for past the deadline,
 * and the child is killed with the group. */
static void
test_background_child (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;
  double secs = run_sh ("echo pw; sleep 600 & echo $!", 1, &res, &error);
  g_auto (GStrv) lines = g_strsplit (res.out, "\n", -1);
  pid_t child;

  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_true (res.timed_out);
  g_assert_true (res.exited_early);
  g_assert_cmpfloat (secs, <, 4);
  g_assert_cmpstr (lines[0], ==, "pw");
  child = (pid_t) g_ascii_strtoll (lines[1], NULL, 10);
  g_assert_cmpint (child, >, 1);
  for (int i = 0; i < 100 && !gone (child); i++)
    g_usleep (20 * 1000);
  g_assert_true (gone (child));
}

/* SIGTERM ignored: SIGKILL follows a second later. */
static void
test_term_ignored (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;
  double secs = run_sh ("trap '' TERM; sleep 600 & echo $!; wait", 1, &res, &error);
  pid_t child = (pid_t) g_ascii_strtoll (res.out, NULL, 10);

  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_true (res.timed_out);
  g_assert_cmpfloat (secs, <, 5);
  g_assert_cmpint (child, >, 1);
  for (int i = 0; i < 100 && !gone (child); i++)
    g_usleep (20 * 1000);
  g_assert_true (gone (child));
}

/* Closing its output is not finishing: it has to exit too. */
static void
test_closed_output (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;
  double secs = run_sh ("echo pw; exec >&- 2>&-; sleep 600", 1, &res, &error);

  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_true (res.timed_out);
  g_assert_cmpfloat (secs, <, 4);
}

/* A flood of output is read (the command does not block on a full pipe)
 * but only MS_EXTCMD_MAX_OUTPUT bytes are kept. */
static void
test_output_cap (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;

  run_sh ("head -c 1000000 /dev/zero | tr '\\0' x; echo done >&2", 10, &res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (res.out), ==, MS_EXTCMD_MAX_OUTPUT);
  g_assert_cmpstr (res.err, ==, "done\n");
}

static void
test_missing_program (void)
{
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "/nonexistent/mailsift-no-such-program", NULL };

  g_assert_false (ms_extcmd_run (argv, 5, &res, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_ACCOUNT);
  g_assert_false (res.timed_out);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/extcmd/ok", test_ok);
  g_test_add_func ("/extcmd/stdin-null", test_stdin_null);
  g_test_add_func ("/extcmd/group", test_group);
  g_test_add_func ("/extcmd/timeout", test_timeout);
  g_test_add_func ("/extcmd/background-child", test_background_child);
  g_test_add_func ("/extcmd/term-ignored", test_term_ignored);
  g_test_add_func ("/extcmd/closed-output", test_closed_output);
  g_test_add_func ("/extcmd/output-cap", test_output_cap);
  g_test_add_func ("/extcmd/missing-program", test_missing_program);
  return g_test_run ();
}
