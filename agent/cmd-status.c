/* mailsift status: per account, the last successful fetch, the last
 * error, what is remembered in the state store; and whether `mailsift run`
 * is running (it holds a lock on <state_dir>/agent.pid). */
#include "commands.h"
#include "error.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* The pid of the running agent, or 0. */
static long
agent_pid (const MsConfig *config)
{
  g_autofree char *path = g_build_filename (config->state_dir, "agent.pid", NULL);
  g_autofree char *text = NULL;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gboolean locked;

  if (fd < 0)
    return 0;
  locked = flock (fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close (fd);
  if (!locked || !g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  return strtol (text, NULL, 10);
}

gboolean
ms_agent_lock (const MsConfig *config, GError **error)
{
  g_autofree char *path = g_build_filename (config->state_dir, "agent.pid", NULL);
  g_autofree char *pid = g_strdup_printf ("%ld\n", (long) getpid ());
  gboolean busy;
  int fd;

  fd = ms_lock_file (config->state_dir, "agent.pid", FALSE, &busy, error);
  if (fd < 0 && !busy)
    return FALSE;
  if (fd < 0)
    {
      g_autofree char *other = NULL;
      g_file_get_contents (path, &other, NULL, NULL);
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "mailsift run is already running (pid %s)",
                   other ? g_strstrip (other) : "?");
      return FALSE;
    }
  if (ftruncate (fd, 0) != 0 || write (fd, pid, strlen (pid)) != (ssize_t) strlen (pid))
    return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot write %s", path);
  return TRUE; /* held until the agent exits */
}

static char *
when (gint64 t)
{
  g_autoptr (GDateTime) dt = NULL;
  gint64 ago = g_get_real_time () / G_USEC_PER_SEC - t;

  if (t == 0)
    return g_strdup ("never");
  dt = g_date_time_new_from_unix_local (t);
  if (ago < 120)
    return g_date_time_format (dt, "%Y-%m-%d %H:%M:%S (just now)");
  if (ago < 7200)
    {
      g_autofree char *at = g_date_time_format (dt, "%Y-%m-%d %H:%M");
      return g_strdup_printf ("%s (%" G_GINT64_FORMAT " min ago)", at, ago / 60);
    }
  return g_date_time_format (dt, "%Y-%m-%d %H:%M");
}

int
ms_cmd_status (int argc, char **argv)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) config = NULL;
  g_autoptr (MsState) state = NULL;
  long pid;

  if (!ms_parse_options ("", "Show, per account, when mail was last fetched, the last error, "
                         "and whether mailsift run is running.", NULL, entries, &argc, &argv))
    return MS_EX_USAGE;
  config = ms_config_load (ms_opt_config, NULL, &error);
  if (config == NULL)
    {
      g_printerr ("mailsift status: %s\n", error->message);
      return MS_EX_CONFIG;
    }
  pid = agent_pid (config);
  if (pid)
    printf ("agent: running (pid %ld)\n", pid);
  else
    printf ("agent: not running (start it with: mailsift run, or systemctl --user start mailsift)\n");
  if (config->accounts->len == 0)
    {
      printf ("no accounts configured\n");
      return MS_EX_OK;
    }
  state = ms_state_open (config->state_dir, &error);
  if (state == NULL)
    {
      g_printerr ("mailsift status: %s\n", error->message);
      return MS_EX_TEMPFAIL;
    }
  for (guint i = 0; i < config->accounts->len; i++)
    {
      const MsAccount *a = config->accounts->pdata[i];
      MsAccountStatus st;
      g_autofree char *ok_at = NULL, *err_at = NULL;

      if (!ms_state_account_status (state, a->name, &st, &error))
        {
          g_printerr ("mailsift status: %s\n", error->message);
          return MS_EX_TEMPFAIL;
        }
      ok_at = when (st.last_ok);
      printf ("%s (%s %s@%s:%d)\n", a->name, ms_config_choice_word ("account", "protocol", a->protocol),
              a->user, a->host, ms_account_port (a));
      printf ("  last fetched:   %s\n", ok_at);
      if (st.last_error && st.last_error_at >= st.last_ok)
        {
          err_at = when (st.last_error_at);
          printf ("  last error:     %s: %s\n", err_at, st.last_error);
        }
      printf ("  delivered:      %" G_GINT64_FORMAT " messages in all; %" G_GINT64_FORMAT
              " remembered on the server\n", st.fetched_total, st.seen);
      g_free (st.last_error);
    }
  return MS_EX_OK;
}
