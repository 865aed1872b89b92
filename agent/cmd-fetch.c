/* mailsift fetch [ACCOUNT...]: one-shot. Every account (all by default)
 * runs in a process of its own, in parallel, so a crash in libetpan's
 * parsers costs one account, not the run; then a summary per account. */
#include "commands.h"
#include "crash.h"
#include "error.h"
#include "log.h"
#include "deliver-imap.h"
#include "deliver-maildir.h"
#include "queue.h"
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
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
  printf ("%s: %u %s (%.1f MB)%s%s, %u skipped, %u failed", f->account->name, f->stats.messages,
          f->dry_run ? "looked at, nothing changed" : "fetched", f->stats.bytes / 1e6,
          where->len ? " -> " : "", where->str, f->stats.skipped, f->stats.failed);
  if (f->stats.duplicates)
    printf (", %u duplicates not delivered again", f->stats.duplicates);
  printf ("%s%s\n", error ? "; error: " : "", error ? error->message : "");
  fflush (stdout);
}

/* One fetch per account at a time (cron and `run` may overlap): an
 * flock held until this process exits. */
static gboolean
lock_account (const MsConfig *config, const MsAccount *account, GError **error)
{
  g_autofree char *name = g_strdup_printf ("%s.lock", account->name);
  gboolean busy;

  /* the descriptor stays open: the lock lives as long as we do */
  if (ms_lock_file (config->state_dir, name, FALSE, &busy, error) >= 0)
    return TRUE;
  if (busy)
    g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: another mailsift is "
                 "fetching it right now; try again when it is done", account->name);
  return FALSE;
}

static gboolean opt_dry_run;

static int fetch_account (MsConfig *config, MsAccount *account, gboolean quiet, GHashTable *uidnext,
                          int *kind_out);

/* `fetch --watch`, what `mailsift run` starts per account: fetch, wait for
 * news (IMAP IDLE, else poll_interval), fetch again; after a failure wait
 * 5 s, doubling up to 5 minutes. Ends only on a configuration error or
 * a signal. */
static int
watch_account (MsConfig *config, MsAccount *account)
{
  const MsSourceOps *ops = ms_source_for (account);
  MsFetch f = { 0 };
  guint backoff = 0;
  g_autoptr (GHashTable) uidnext = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  f.account = account;
  f.config = config;
  f.uidnext = uidnext;
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      int kind;
      int code = fetch_account (config, account, TRUE, uidnext, &kind);
      gboolean waited;

      if (kind == MS_ERROR_CONFIG)
        return code;
      if (kind == MS_ERROR_ACCOUNT)
        backoff = MAX (backoff, 150); /* certificate or login refused: no point in hurrying */
      /* messages that could not be delivered stay on the server and are
       * retried on the next round; that is no reason to stop pushing */
      if (code == MS_EX_OK || kind < 0)
        {
          backoff = 0;
          waited = ops->wait && account->idle
                     ? ops->wait (&f, 28 * 60, NULL, &error)
                     : (g_usleep ((gulong) account->poll_interval * G_USEC_PER_SEC), TRUE);
          if (waited)
            continue;
          g_warning ("%s", error->message);
        }
      backoff = backoff ? MIN (backoff * 2, 300) : 5;
      g_message ("account %s: trying again in %u s", account->name, backoff);
      g_usleep ((gulong) backoff * G_USEC_PER_SEC);
    }
}

/* Fetch one account in this process; returns a sysexits code. */
static int
fetch_account (MsConfig *config, MsAccount *account, gboolean quiet, GHashTable *uidnext,
               int *kind_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) state = NULL;
  g_autoptr (MsEngine) engine = NULL;
  const MsSourceOps *ops = ms_source_for (account);
  g_auto (MsPipeline) pipeline = { 0 };
  g_autoptr (MsImapStore) store = NULL;
  MsFetch f = { 0 };
  gint64 start = g_get_monotonic_time ();
  gboolean ok;

  f.stats.folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f.account = account;
  f.config = config;
  f.uidnext = uidnext;
  f.deadline = account->fetch_deadline ? start + (gint64) account->fetch_deadline * G_USEC_PER_SEC : 0;
  g_assert (ops != NULL); /* the config allows only protocols we have */
  if (!opt_dry_run)
    ms_maildir_sweep_tmp (config->maildir);
  state = ms_state_open (config->state_dir, &error);
  if (state)
    {
      engine = ms_engine_for_config (config);
      pipeline.config = config;
      pipeline.engine = engine;
      pipeline.state = opt_dry_run ? NULL : state; /* a dry run records nothing */
      pipeline.script = account->script;
      if (account->deliver_to == MS_DELIVER_TO_IMAP)
        {
          /* checked when the config was read */
          store = ms_imap_store_new (config, ms_config_find_account (config, account->deliver_to_account));
          pipeline.append = ms_imap_store_append;
          pipeline.append_data = store;
          pipeline.append_to = account->deliver_to_account;
        }
      f.dry_run = opt_dry_run;
      f.pipeline = &pipeline;
      f.state = state;
      if (isatty (STDERR_FILENO) && !ms_opt_quiet)
        {
          f.progress = draw_progress;
          f.progress_data = &start;
        }
      ok = ms_fetch_run (&f, ops, &error);
      if (f.progress)
        fprintf (stderr, "\r\033[K");
      if (!ok)
        g_warning ("%s", error->message);
      if (!opt_dry_run)
        {
          /* messages left on the server show in `mailsift status` too */
          g_autofree char *left = ok && f.stats.failed
                                    ? g_strdup_printf ("%u failed (left on the server, tried again "
                                                       "next time; the log says why)", f.stats.failed)
                                  : ok && f.deadline_hit
                                    ? g_strdup_printf ("fetch_deadline (%d s) reached; the rest is "
                                                       "left on the server for the next run",
                                                       account->fetch_deadline)
                                    : NULL;
          ms_state_account_result (state, account->name, ok, ok ? left : error->message,
                                   f.stats.messages, NULL);
        }
    }
  /* -q: only a failure is worth a line */
  if (ms_opt_quiet ? error || f.stats.failed : !quiet || error || f.stats.messages || f.stats.failed)
    print_summary (&f, error);
  g_hash_table_unref (f.stats.folders);
  *kind_out = error ? error->code : -1;
  if (error == NULL)
    return f.stats.failed || f.deadline_hit ? MS_EX_TEMPFAIL : MS_EX_OK;
  /* retrying cannot fix a refused certificate or login: that needs you */
  return error->code == MS_ERROR_CONFIG || error->code == MS_ERROR_ACCOUNT ? MS_EX_CONFIG
                                                                          : MS_EX_TEMPFAIL;
}

/* Send what the filters queued (redirects, replies) before exiting; what
 * cannot go now stays queued for `mailsift queue flush` or `run`. */
static void
flush_queue (const MsConfig *config)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) state = ms_state_open (config->state_dir, &error);
  MsQueueStats st;

  if (state == NULL || !ms_queue_flush (state, config, FALSE, &st, &error))
    {
      g_warning ("outbound queue not sent: %s", error->message);
      return;
    }
  if (ms_opt_quiet ? st.failed > 0 : st.sent || st.deferred || st.failed)
    {
      g_autofree char *line = ms_queue_stats_format (&st);
      printf ("%s\n", line);
    }
}

/* The accounts to fetch: those named on the command line (@argv[1..]),
 * else every account with fetch = yes, into @chosen. FALSE when one
 * named does not exist or there are none (said on stderr). */
static gboolean
choose_accounts (const MsConfig *config, int argc, char **argv, GPtrArray *chosen)
{
  for (int i = 1; i < argc; i++)
    {
      MsAccount *a = ms_config_find_account (config, argv[i]);
      if (a == NULL)
        {
          g_printerr ("mailsift fetch: no [account %s] in %s\n", argv[i],
                      config->path ? config->path : "the configuration");
          return FALSE;
        }
      g_ptr_array_add (chosen, a);
    }
  for (guint i = 0; argc == 1 && i < config->accounts->len; i++)
    if (((MsAccount *) config->accounts->pdata[i])->fetch)
      g_ptr_array_add (chosen, config->accounts->pdata[i]);
  if (chosen->len == 0)
    {
      g_printerr ("mailsift fetch: no accounts configured; add an [account NAME] group "
                  "(see mailsift.conf(5))\n");
      return FALSE;
    }
  return TRUE;
}

/* The process of one account, just forked from @parent: take the
 * account's lock, then fetch (or watch) it, and exit with its code. */
static void G_GNUC_NORETURN
account_process (MsConfig *config, MsAccount *account, gboolean watch, pid_t parent)
{
  g_autoptr (GError) lock_error = NULL;
  int kind;

  /* a worker never outlives the command that started it */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (MS_EX_TEMPFAIL);
  if (!lock_account (config, account, &lock_error))
    {
      g_warning ("%s", lock_error->message);
      _exit (MS_EX_TEMPFAIL);
    }
  ms_spool_install_cleanup ();
  _exit (watch ? watch_account (config, account) : fetch_account (config, account, FALSE, NULL, &kind));
}

/* `mailsift fetch --watch ACCOUNT`, as `mailsift run` starts it: the
 * account in this process. */
static int
watch_in_process (MsConfig *config, MsAccount *account)
{
  g_autoptr (GError) lock_error = NULL;

  if (!lock_account (config, account, &lock_error))
    {
      g_warning ("%s", lock_error->message);
      return MS_EX_TEMPFAIL;
    }
  ms_spool_install_cleanup ();
  return watch_account (config, account);
}

/* Start a process per account in @chosen, their pids into @pids (-1
 * where fork failed, so that pids[i] stays lined up with chosen[i]).
 * Even one account gets a process of its own: a libetpan parser crash
 * caused by a server then costs that account this run, nothing more.
 * MS_EX_TEMPFAIL when a process could not be started, else MS_EX_OK. */
static int
start_accounts (MsConfig *config, GPtrArray *chosen, gboolean watch, GArray *pids)
{
  int worst = MS_EX_OK;

  fflush (stdout);
  fflush (stderr);
  for (guint i = 0; i < chosen->len; i++)
    {
      pid_t parent = getpid ();
      pid_t pid = fork ();
      if (pid == 0)
        account_process (config, chosen->pdata[i], watch, parent);
      if (pid < 0)
        {
          g_warning ("cannot start a process for account %s: %s",
                     ((MsAccount *) chosen->pdata[i])->name, g_strerror (errno));
          worst = MS_EX_TEMPFAIL;
        }
      g_array_append_val (pids, pid); /* -1 keeps pids[i] lined up with chosen[i] */
    }
  return worst;
}

/* Wait for every account process in @pids and return the worst exit
 * code, starting from @worst: 78 (configuration) before any other
 * failure, else the first failure. A process killed by a signal is
 * reported. */
static int
wait_accounts (GPtrArray *chosen, GArray *pids, int worst)
{
  for (guint i = 0; i < pids->len; i++)
    {
      int status = 0;
      int code;
      if (g_array_index (pids, pid_t, i) < 0)
        continue;
      while (waitpid (g_array_index (pids, pid_t, i), &status, 0) < 0 && errno == EINTR)
        ;
      code = WIFEXITED (status) ? WEXITSTATUS (status) : MS_EX_TEMPFAIL;
      /* a crash point in a worker stands for the machine going down:
       * the command goes down with it (no queue flush after it) */
      if (ms_crash_armed () && code == MS_CRASH_EXIT)
        _exit (MS_CRASH_EXIT);
      if (!WIFEXITED (status))
        {
          const MsAccount *a = chosen->pdata[i];
          g_warning ("account %s: its process died (signal %d); nothing it had not delivered was "
                     "removed from the server, and the rest is fetched next time", a->name,
                     WIFSIGNALED (status) ? WTERMSIG (status) : 0);
          printf ("%s: failed: the account process died (signal %d)\n", a->name,
                  WIFSIGNALED (status) ? WTERMSIG (status) : 0);
        }
      if (code == MS_EX_CONFIG || (code != MS_EX_OK && worst == MS_EX_OK))
        worst = code;
    }
  return worst;
}

int
ms_cmd_fetch (int argc, char **argv)
{
  gboolean watch = FALSE;
  const GOptionEntry entries[] = {
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run, "Fetch only the headers of new messages, "
      "run the scripts and print what would be done with each; change nothing here or on the "
      "server", NULL },
    { "watch", 0, 0, G_OPTION_ARG_NONE, &watch, "Keep going: wait for new mail (IMAP IDLE, or "
      "poll_interval) and fetch again, until stopped. What mailsift run starts per account.", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) config = NULL;
  g_autoptr (GPtrArray) chosen = g_ptr_array_new ();
  g_autoptr (GArray) pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  int worst;

  if (!ms_parse_options ("[ACCOUNT...]", "Fetch new mail from your accounts (all of them, or those "
                         "named), filter it and deliver it, then print a summary per account.",
                         "Exit status: 0 all accounts fetched; 75 a temporary failure somewhere "
                         "(try again later: nothing was lost); 78 something only you can fix: the "
                         "configuration, a refused certificate or login.",
                         entries, &argc, &argv))
    return MS_EX_USAGE;
  if (opt_dry_run && watch)
    {
      g_printerr ("mailsift fetch: --dry-run and --watch do not go together\n");
      return MS_EX_USAGE;
    }
  config = ms_config_load (ms_opt_config, NULL, &error);
  if (config == NULL)
    {
      g_printerr ("mailsift fetch: %s\n", error->message);
      return MS_EX_CONFIG;
    }
  ms_log_set_level (config->log_level);
  ms_log_set_target (config->log);
  if (!choose_accounts (config, argc, argv, chosen))
    return MS_EX_CONFIG;
  /* `mailsift run` starts one `fetch --watch ACCOUNT` per account and
   * restarts it when it dies: that process is the account's own already,
   * and a second one under it would only cost memory */
  if (watch && chosen->len == 1)
    return watch_in_process (config, chosen->pdata[0]);
  worst = start_accounts (config, chosen, watch, pids);
  worst = wait_accounts (chosen, pids, worst);
  if (!opt_dry_run && config->smtp->len > 0)
    flush_queue (config);
  return worst;
}
