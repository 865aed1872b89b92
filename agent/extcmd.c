#include "extcmd.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long the process group has between SIGTERM and SIGKILL. */
#define TERM_GRACE_USEC (G_USEC_PER_SEC)

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
child_setup (gpointer data)
{
  sigset_t none;
  (void) data;

  /* a group of its own, so that what it starts can be killed with it */
  setpgid (0, 0);
  /* and it goes when we do (a killed worker leaves no pinentry behind) */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  /* mailsift ignores SIGPIPE (and deliver SIGTERM); ignored signals
   * survive exec, and the command must not start out that way */
  signal (SIGPIPE, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGINT, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

typedef struct {
  int fd;
  GString *data;
} Pipe;

/* Read what is there; FALSE at EOF or on an error (the pipe is closed). */
static gboolean
drain (Pipe *p)
{
  char buf[4096];
  ssize_t n = read (p->fd, buf, sizeof buf);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return TRUE;
  if (n <= 0)
    {
      close (p->fd);
      p->fd = -1;
      return FALSE;
    }
  if (p->data->len < MS_EXTCMD_MAX_OUTPUT)
    g_string_append_len (p->data, buf, MIN ((gsize) n, MS_EXTCMD_MAX_OUTPUT - p->data->len));
  explicit_bzero (buf, sizeof buf);
  return TRUE;
}

/* Reap @pid if it has exited. */
static gboolean
reaped (pid_t pid, int *status)
{
  pid_t r;

  while ((r = waitpid (pid, status, WNOHANG)) < 0 && errno == EINTR)
    ;
  return r == pid || (r < 0 && errno == ECHILD);
}

/* The deadline passed: end the whole process group @pid (the command
 * made itself its leader), gently first. */
static void
kill_group (pid_t pid, gboolean *done, int *status)
{
  gint64 give_up = g_get_monotonic_time () + TERM_GRACE_USEC;

  kill (-pid, SIGTERM);
  if (!*done)
    kill (pid, SIGTERM); /* in case it left the group */
  while (g_get_monotonic_time () < give_up)
    {
      if (!*done)
        *done = reaped (pid, status);
      /* a group is gone when its last member is; the reaped leader no
       * longer counts */
      if (*done && kill (-pid, 0) < 0 && errno == ESRCH)
        return;
      g_usleep (10 * 1000);
    }
  kill (-pid, SIGKILL);
  if (!*done)
    {
      kill (pid, SIGKILL);
      while (waitpid (pid, status, 0) < 0 && errno == EINTR)
        ;
      *done = TRUE;
    }
}

gboolean
ms_extcmd_run (const char *const *argv, guint timeout_s, MsExtcmdResult *result, GError **error)
{
  g_autoptr (GError) local = NULL;
  Pipe pipes[2] = { { -1, NULL }, { -1, NULL } };
  gint64 deadline;
  GPid pid;
  gboolean done = FALSE;
  int status = 0;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, FALSE);
  g_return_val_if_fail (result != NULL, FALSE);

  memset (result, 0, sizeof *result);
  if (!g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                         G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD
                                           | G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_CLOEXEC_PIPES,
                                         child_setup, NULL, -1, -1, -1, NULL, NULL, 0, &pid, NULL,
                                         &pipes[0].fd, &pipes[1].fd, &local))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "%s", local->message);
      result->out = g_strdup ("");
      result->err = g_strdup ("");
      return FALSE;
    }
  /* the child did it too; this closes the window before it ran */
  setpgid (pid, pid);
  deadline = g_get_monotonic_time () + (gint64) MAX (timeout_s, 1) * G_USEC_PER_SEC;
  for (guint i = 0; i < 2; i++)
    {
      pipes[i].data = g_string_new (NULL);
      fcntl (pipes[i].fd, F_SETFL, fcntl (pipes[i].fd, F_GETFL) | O_NONBLOCK);
    }

  /* Its output first: the answer is complete only at EOF, which a child
   * it left behind can hold off even after it exited itself. */
  while (pipes[0].fd >= 0 || pipes[1].fd >= 0)
    {
      struct pollfd fds[2];
      Pipe *which[2];
      nfds_t n = 0;
      gint64 left = deadline - g_get_monotonic_time ();
      int r;

      if (left <= 0)
        break;
      for (guint i = 0; i < 2; i++)
        if (pipes[i].fd >= 0)
          {
            fds[n] = (struct pollfd) { .fd = pipes[i].fd, .events = POLLIN };
            which[n++] = &pipes[i];
          }
      r = poll (fds, n, (int) MIN ((left + 999) / 1000, G_MAXINT));
      if (r < 0 && errno != EINTR)
        break;
      for (nfds_t i = 0; r > 0 && i < n; i++)
        if (fds[i].revents)
          drain (which[i]);
    }
  /* then its exit: it may have closed its output and gone on */
  while (pipes[0].fd < 0 && pipes[1].fd < 0 && !(done = reaped (pid, &status))
         && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);

  if (!done || pipes[0].fd >= 0 || pipes[1].fd >= 0)
    {
      result->timed_out = TRUE;
      result->exited_early = done || reaped (pid, &status);
      done = result->exited_early;
      kill_group (pid, &done, &status);
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "did not finish within %u s", MAX (timeout_s, 1));
    }
  for (guint i = 0; i < 2; i++)
    if (pipes[i].fd >= 0)
      close (pipes[i].fd);
  g_spawn_close_pid (pid);
  result->wait_status = status;
  result->out = g_string_free (pipes[0].data, FALSE);
  result->err = g_string_free (pipes[1].data, FALSE);
  return !result->timed_out;
}

void
ms_extcmd_result_clear (MsExtcmdResult *result)
{
  if (result->out)
    explicit_bzero (result->out, strlen (result->out));
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}
