/* mailsift fetch [ACCOUNT...]: one-shot. Every account (all by default)
 * runs in a process of its own, so a crash in libetpan's parsers costs
 * one account, not the run; then a summary per account. */
#include "commands.h"
#include "error.h"
#include "log.h"
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
draw_progress (MsFetch *f, gpointer data)
{
  gint64 *start = data;
  double secs = MAX ((g_get_monotonic_time () - *start) / 1e6, 0.001);
  guint done = f->stats.messages + f->stats.skipped + f->stats.failed;
  double rate = f->stats.bytes / secs;
  double eta = done ? secs * (f->stats.total - MIN (done, f->stats.total)) / done : 0;

  fprintf (stderr, "\r%s: %u/%u messages, %.1f MB, %.1f MB/s, ETA %.0f s   ", f->account->name,
           done, f->stats.total, f->stats.bytes / 1e6, rate / 1e6, eta);
}

static void
print_summary (MsFetch *f, const GError *error)
{
  GHashTableIter iter;
  gpointer k, v;
  g_autoptr (GString) where = g_string_new (NULL);

  g_hash_table_iter_init (&iter, f->stats.folders);
  while (g_hash_table_iter_next (&iter, &k, &v))
    g_string_append_printf (where, "%s%s %u", where->len ? ", " : "", (char *) k, GPOINTER_TO_UINT (v));
  printf ("%s: %u fetched (%.1f MB)%s%s, %u skipped, %u failed%s%s\n", f->account->name,
          f->stats.messages, f->stats.bytes / 1e6, where->len ? " -> " : "", where->str,
          f->stats.skipped, f->stats.failed, error ? "; error: " : "", error ? error->message : "");
  fflush (stdout);
}

/* Fetch one account in this process; returns a sysexits code. */
static int
fetch_account (MsConfig *config, MsAccount *account)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) state = NULL;
  g_autoptr (MsEngine) engine = NULL;
  const MsSourceOps *ops = ms_source_for (account);
  MsPipeline pipeline = { 0 };
  MsFetch f = { 0 };
  gint64 start = g_get_monotonic_time ();
  gboolean ok;

  f.stats.folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f.account = account;
  f.config = config;
  if (ops == NULL)
    {
      g_set_error (&error, MS_ERROR, MS_ERROR_CONFIG, "account %s: fetching over %s is not built "
                   "yet (only pop3)", account->name, account->protocol);
      print_summary (&f, error);
      g_hash_table_unref (f.stats.folders);
      return MS_EX_CONFIG;
    }
  state = ms_state_open (config->state_dir, &error);
  if (state)
    {
      engine = ms_engine_for_config (config);
      pipeline.config = config;
      pipeline.engine = engine;
      pipeline.state = state;
      pipeline.script = account->script;
      f.pipeline = &pipeline;
      f.state = state;
      if (isatty (STDERR_FILENO))
        {
          f.progress = draw_progress;
          f.progress_data = &start;
        }
      ok = ops->fetch (&f, &error);
      if (f.progress)
        fprintf (stderr, "\r\033[K");
      if (!ok)
        g_warning ("%s", error->message);
    }
  print_summary (&f, error);
  g_hash_table_unref (f.stats.folders);
  if (error == NULL)
    return MS_EX_OK;
  return error->code == MS_ERROR_CONFIG ? MS_EX_CONFIG : MS_EX_TEMPFAIL;
}

int
ms_cmd_fetch (int argc, char **argv)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) config = NULL;
  g_autoptr (GPtrArray) chosen = g_ptr_array_new ();
  g_autoptr (GArray) pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  int worst = MS_EX_OK;

  if (!ms_parse_options ("[ACCOUNT...]", "Fetch new mail from your accounts (all of them, or those "
                         "named), filter it and deliver it, then print a summary per account.",
                         "Exit status: 0 all accounts fetched; 75 a temporary failure somewhere "
                         "(try again later: nothing was lost); 78 configuration error.",
                         entries, &argc, &argv))
    return MS_EX_USAGE;
  config = ms_config_load (ms_opt_config, NULL, &error);
  if (config == NULL)
    {
      g_printerr ("mailsift fetch: %s\n", error->message);
      return MS_EX_CONFIG;
    }
  ms_log_set_level (config->log_level);
  for (int i = 1; i < argc; i++)
    {
      MsAccount *a = ms_config_find_account (config, argv[i]);
      if (a == NULL)
        {
          g_printerr ("mailsift fetch: no [account %s] in %s\n", argv[i],
                      config->path ? config->path : "the configuration");
          return MS_EX_CONFIG;
        }
      g_ptr_array_add (chosen, a);
    }
  if (argc == 1)
    g_ptr_array_extend (chosen, config->accounts, NULL, NULL);
  if (chosen->len == 0)
    {
      g_printerr ("mailsift fetch: no accounts configured; add an [account NAME] group "
                  "(see mailsift.conf(5))\n");
      return MS_EX_CONFIG;
    }
  if (chosen->len == 1)
    return fetch_account (config, chosen->pdata[0]);

  fflush (stdout);
  fflush (stderr);
  for (guint i = 0; i < chosen->len; i++)
    {
      pid_t pid = fork ();
      if (pid == 0)
        _exit (fetch_account (config, chosen->pdata[i]));
      if (pid < 0)
        {
          g_warning ("cannot start a process for account %s: %s",
                     ((MsAccount *) chosen->pdata[i])->name, g_strerror (errno));
          worst = MS_EX_TEMPFAIL;
          continue;
        }
      g_array_append_val (pids, pid);
    }
  for (guint i = 0; i < pids->len; i++)
    {
      int status = 0;
      int code;
      while (waitpid (g_array_index (pids, pid_t, i), &status, 0) < 0 && errno == EINTR)
        ;
      code = WIFEXITED (status) ? WEXITSTATUS (status) : MS_EX_TEMPFAIL;
      if (!WIFEXITED (status))
        g_warning ("an account process died (signal %d); its messages stay on the server and "
                   "are fetched next time", WIFSIGNALED (status) ? WTERMSIG (status) : 0);
      if (code == MS_EX_CONFIG || (code != MS_EX_OK && worst == MS_EX_OK))
        worst = code;
    }
  return worst;
}
