/* mailsift filter-worker: the hidden filter process (see filters/engine.h).
 * Started by the agent itself with pipes on stdin and stdout. */
#include "commands.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "sandbox.h"
#include "state.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef MS_ASAN_BUILD
#include <sanitizer/common_interface_defs.h>
#endif

/* The duplicate history, opened read-only on first use and kept open for
 * the life of the process (one agent, one state store). */
static gboolean
read_duplicate (const char *state_dir, const char *hash, gboolean *found_out, gint64 *first_out,
                gint64 *last_out, GError **error)
{
  static MsState *state;
  static char *dir;
  g_autoptr (GError) local = NULL;

  *found_out = FALSE;
  if (state == NULL || g_strcmp0 (dir, state_dir) != 0)
    {
      g_clear_pointer (&state, ms_state_free);
      g_free (dir);
      dir = g_strdup (state_dir);
      state = ms_state_open_readonly (state_dir, &local);
      /* no state store yet: nothing was delivered, nothing seen */
      if (state == NULL && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      if (state == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  return ms_state_duplicate_lookup (state, hash, found_out, first_out, last_out, error);
}

#ifdef MS_ASAN_BUILD
/* ASan builds only. The sandbox lets the filter process create no file,
 * so a sanitizer report could not reach the log_path that ASAN_OPTIONS
 * names (make check-sanitizers collects those files). The file it would
 * use, "PATH.PID", is opened now, before the sandbox, and every report
 * goes there. */
static void
open_sanitizer_report (void)
{
  const char *options = g_getenv ("ASAN_OPTIONS");
  const char *at = options ? strstr (options, "log_path=") : NULL;
  g_autofree char *path = NULL, *file = NULL;
  int fd;

  if (at == NULL || (at != options && at[-1] != ':'))
    return;
  at += strlen ("log_path=");
  path = g_strndup (at, strcspn (at, ":"));
  if (*path == '\0' || strcmp (path, "stderr") == 0)
    return;
  file = g_strdup_printf ("%s.%d", path, (int) getpid ());
  fd = open (file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0)
    __sanitizer_set_report_fd ((void *) (intptr_t) fd);
}
#endif

int
ms_cmd_filter_worker (int argc, char **argv)
{
  int cpu_seconds = 5;
  int status;
  g_autofree char *log_level = NULL;
  g_auto (MsSandbox) sandbox = { 0 };
  const GOptionEntry entries[] = {
    { "cpu-seconds", 0, 0, G_OPTION_ARG_INT, &cpu_seconds, "CPU seconds per message", "N" },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level, "The agent's log level", "LEVEL" },
    G_OPTION_ENTRY_NULL
  };

  if (!ms_parse_options ("", "Internal: the Sieve filter process.", NULL, entries, &argc, &argv))
    return MS_EX_USAGE;
  if (isatty (STDIN_FILENO))
    {
      g_printerr ("mailsift filter-worker is started by mailsift itself, not by hand\n");
      return MS_EX_USAGE;
    }
  if (log_level) /* the agent's ms_log_get_level: a word of log_level */
    ms_log_set_level (MAX (ms_config_choice_value ("general", "log_level", log_level),
                           MS_LOG_LEVEL_NOTICE));
  ms_engine_set_duplicate_lookup (read_duplicate);
#ifdef MS_ASAN_BUILD
  open_sanitizer_report ();
#endif
  /* From here on it only reads (filters/sandbox.h). A kernel without
   * Landlock or seccomp is no reason to keep mail back: it is said once,
   * and the filter runs as before. */
  ms_sandbox_enter (&sandbox);
  if (sandbox.complete)
    g_debug ("filter process: sandbox: %s", sandbox.summary);
  else
    g_info ("filter process: sandbox: %s", sandbox.summary);
  status = ms_engine_serve (STDIN_FILENO, STDOUT_FILENO, MAX (cpu_seconds, 1), sandbox.summary) == 0
             ? MS_EX_OK
             : MS_EX_SOFTWARE;
#ifdef MS_ASAN_BUILD
  /* LeakSanitizer's check at exit stops the process's threads with
   * ptrace, which the sandbox denies, and then fails. The engine's leaks
   * are looked for where it runs unsandboxed: the unit tests and the fuzz
   * targets. ASan and UBSan reports still come (open_sanitizer_report). */
  _exit (status);
#endif
  return status;
}
