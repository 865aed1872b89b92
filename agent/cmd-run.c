/* mailsift run: the background agent. A small supervisor on a GMainLoop
 * that starts one worker per account (`mailsift fetch --watch NAME`, the
 * same binary), restarts a worker that dies with exponential backoff and
 * says why, reloads the configuration on SIGHUP and stops cleanly on
 * SIGTERM or SIGINT. */
#include "commands.h"
#include "error.h"
#include "log.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>
#include <sys/prctl.h>

typedef struct Worker Worker;

typedef struct {
  GMainLoop *loop;
  MsConfig *config;
  char *self;
  GPtrArray *workers; /* Worker* */
  gboolean stopping;
  gboolean reloading;
  GSubprocess *queue_runner; /* `mailsift queue flush`, while one runs */
} Agent;

struct Worker {
  Agent *agent;
  char *account;
  GSubprocess *process;
  guint restart_id;
  guint backoff;      /* seconds before the next restart */
  gint64 started;     /* monotonic */
};

static void worker_start (Worker *w);

static void
worker_free (Worker *w)
{
  if (w->restart_id)
    g_source_remove (w->restart_id);
  g_clear_object (&w->process);
  g_free (w->account);
  g_free (w);
}

static void
child_setup (gpointer data)
{
  /* a worker never outlives the agent */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
on_restart (gpointer data)
{
  Worker *w = data;

  w->restart_id = 0;
  worker_start (w);
  return G_SOURCE_REMOVE;
}

static void
maybe_finish (Agent *a)
{
  for (guint i = 0; i < a->workers->len; i++)
    if (((Worker *) a->workers->pdata[i])->process)
      return;
  if (a->queue_runner)
    return;
  g_main_loop_quit (a->loop);
}

static void
on_worker_exit (GObject *source, GAsyncResult *res, gpointer data)
{
  Worker *w = data;
  Agent *a = w->agent;
  GSubprocess *p = G_SUBPROCESS (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *why = NULL;
  gint64 ran = (g_get_monotonic_time () - w->started) / G_USEC_PER_SEC;

  g_subprocess_wait_finish (p, res, &error);
  if (g_subprocess_get_if_signaled (p))
    why = g_strdup_printf ("was killed by signal %d", g_subprocess_get_term_sig (p));
  else
    why = g_strdup_printf ("exited with status %d", g_subprocess_get_exit_status (p));
  g_clear_object (&w->process);
  if (a->reloading)
    return; /* on_reload waits for every worker, then starts new ones */
  if (a->stopping)
    {
      maybe_finish (a);
      return;
    }
  if (!g_subprocess_get_if_signaled (p) && g_subprocess_get_exit_status (p) == MS_EX_CONFIG)
    {
      g_warning ("account %s: worker %s (configuration error); fix the config, then send SIGHUP "
                 "or restart mailsift run", w->account, why);
      return;
    }
  /* a worker that ran a good while gets a quick restart; one that keeps
   * dying waits longer each time, up to 5 minutes */
  w->backoff = ran > 60 ? 1 : MIN (MAX (w->backoff * 2, 1), 300);
  g_warning ("account %s: worker %s after %" G_GINT64_FORMAT " s; restarting in %u s", w->account,
             why, ran, w->backoff);
  w->restart_id = g_timeout_add_seconds (w->backoff, on_restart, w);
}

static void
worker_start (Worker *w)
{
  Agent *a = w->agent;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, a->self);
  g_ptr_array_add (argv, (gpointer) "fetch");
  g_ptr_array_add (argv, (gpointer) "--watch");
  if (a->config->path)
    {
      g_ptr_array_add (argv, (gpointer) "-c");
      g_ptr_array_add (argv, a->config->path);
    }
  if (ms_log_option ())
    g_ptr_array_add (argv, (gpointer) ms_log_option ());
  g_ptr_array_add (argv, w->account);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  w->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  w->started = g_get_monotonic_time ();
  if (w->process == NULL)
    {
      w->backoff = MIN (MAX (w->backoff * 2, 1), 300);
      g_warning ("account %s: cannot start a worker: %s; trying again in %u s", w->account,
                 error->message, w->backoff);
      w->restart_id = g_timeout_add_seconds (w->backoff, on_restart, w);
      return;
    }
  g_info ("account %s: worker %s started", w->account, g_subprocess_get_identifier (w->process));
  g_subprocess_wait_async (w->process, NULL, on_worker_exit, w);
}

static void
on_queue_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Agent *a = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  g_clear_object (&a->queue_runner);
  if (a->stopping)
    maybe_finish (a);
}

/* Every minute, send what is due in the outbound queue (redirects,
 * replies), in a process of its own like everything that talks to a
 * server. */
static gboolean
on_queue_timer (gpointer data)
{
  Agent *a = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  if (a->queue_runner || a->stopping || a->config->smtp->len == 0)
    return G_SOURCE_CONTINUE;
  g_ptr_array_add (argv, a->self);
  g_ptr_array_add (argv, (gpointer) "queue");
  g_ptr_array_add (argv, (gpointer) "flush");
  g_ptr_array_add (argv, (gpointer) "--due");
  if (a->config->path)
    {
      g_ptr_array_add (argv, (gpointer) "-c");
      g_ptr_array_add (argv, a->config->path);
    }
  g_ptr_array_add (argv, NULL);
  a->queue_runner = g_subprocess_newv ((const char *const *) argv->pdata,
                                       G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  if (a->queue_runner == NULL)
    g_warning ("cannot run the outbound queue: %s", error->message);
  else
    g_subprocess_wait_async (a->queue_runner, NULL, on_queue_done, a);
  return G_SOURCE_CONTINUE;
}

static void
start_all (Agent *a)
{
  for (guint i = 0; i < a->config->accounts->len; i++)
    {
      const MsAccount *account = a->config->accounts->pdata[i];
      Worker *w;

      if (!account->fetch)
        continue; /* only a deliver_to destination */
      w = g_new0 (Worker, 1);
      w->agent = a;
      w->account = g_strdup (account->name);
      g_ptr_array_add (a->workers, w);
      worker_start (w);
    }
  g_message ("watching %u account%s", a->workers->len, a->workers->len == 1 ? "" : "s");
}

static void
stop_all (Agent *a)
{
  for (guint i = 0; i < a->workers->len; i++)
    {
      Worker *w = a->workers->pdata[i];
      if (w->restart_id)
        {
          g_source_remove (w->restart_id);
          w->restart_id = 0;
        }
      if (w->process)
        g_subprocess_send_signal (w->process, SIGTERM);
    }
  if (a->queue_runner)
    g_subprocess_send_signal (a->queue_runner, SIGTERM);
}

static gboolean
on_stop (gpointer data)
{
  Agent *a = data;

  g_message ("stopping: a message in flight is dropped and stays on the server; nothing is lost");
  a->stopping = TRUE;
  stop_all (a);
  maybe_finish (a);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload (gpointer data)
{
  Agent *a = data;
  g_autoptr (GError) error = NULL;
  MsConfig *fresh;

  if (a->reloading || a->stopping)
    return G_SOURCE_CONTINUE; /* one reload at a time, none while stopping */
  fresh = ms_config_load (a->config->path, NULL, &error);

  if (fresh == NULL)
    {
      g_warning ("SIGHUP: the new configuration is not used: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  g_message ("SIGHUP: configuration reloaded; restarting the workers");
  a->reloading = TRUE;
  stop_all (a);
  /* wait for the old workers (bounded by their own SIGTERM handling) */
  while (TRUE)
    {
      gboolean any = FALSE;
      for (guint i = 0; i < a->workers->len; i++)
        any |= ((Worker *) a->workers->pdata[i])->process != NULL;
      if (!any)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  a->reloading = FALSE;
  g_ptr_array_set_size (a->workers, 0);
  ms_config_free (a->config);
  a->config = fresh;
  if (a->stopping)
    maybe_finish (a); /* SIGTERM came during the reload */
  else
    start_all (a);
  return G_SOURCE_CONTINUE;
}

int
ms_cmd_run (int argc, char **argv)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr (GError) error = NULL;
  Agent a = { 0 };

  if (!ms_parse_options ("", "Run in the background: fetch every account now and whenever new "
                         "mail arrives (IMAP IDLE, otherwise every poll_interval), until stopped.",
                         "Signals: SIGTERM or SIGINT stop it; SIGHUP rereads the configuration.\n"
                         "Logs go to standard error, one line per event; under systemd they land in\n"
                         "the journal (see examples/mailsift.service).",
                         entries, &argc, &argv))
    return MS_EX_USAGE;
  a.config = ms_config_load (ms_opt_config, NULL, &error);
  if (a.config == NULL)
    {
      g_printerr ("mailsift run: %s\n", error->message);
      return MS_EX_CONFIG;
    }
  ms_log_set_level (a.config->log_level);
  ms_log_set_target (a.config->log);
  if (a.config->accounts->len == 0)
    {
      g_printerr ("mailsift run: no accounts configured; add an [account NAME] group "
                  "(see mailsift.conf(5))\n");
      return MS_EX_CONFIG;
    }
  if (!ms_agent_lock (a.config, &error))
    {
      g_printerr ("mailsift run: %s\n", error->message);
      ms_config_free (a.config);
      return MS_EX_TEMPFAIL;
    }
  a.self = g_file_read_link ("/proc/self/exe", NULL);
  if (a.self == NULL)
    a.self = g_strdup (argv[0]);
  a.loop = g_main_loop_new (NULL, FALSE);
  a.workers = g_ptr_array_new_with_free_func ((GDestroyNotify) worker_free);
  g_unix_signal_add (SIGTERM, on_stop, &a);
  g_unix_signal_add (SIGINT, on_stop, &a);
  g_unix_signal_add (SIGHUP, on_reload, &a);
  start_all (&a);
  g_timeout_add_seconds (60, on_queue_timer, &a);
  on_queue_timer (&a);
  g_main_loop_run (a.loop);
  g_ptr_array_unref (a.workers);
  g_main_loop_unref (a.loop);
  ms_config_free (a.config);
  g_free (a.self);
  g_message ("stopped");
  return MS_EX_OK;
}
