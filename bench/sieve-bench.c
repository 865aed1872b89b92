/* sieve-bench - what mailsift's Sieve engine costs per message.
 *
 *   bench/sieve-bench [-a ACTIONS] [-f MAILSIFT] SCRIPT DIR [ROUNDS]
 *
 * Compiles SCRIPT once, then runs it on the header of every message in
 * DIR (in name order), ROUNDS times (default 5), and prints the time per
 * message of the best round: the engine alone (ms_sv_execute), without
 * the filter process or any I/O.
 *
 * -f MAILSIFT: also time the filter step of `mailsift fetch` for every
 * message, ROUNDS times, in fetch's batches of MS_FETCH_BATCH_MAX:
 * ms_pipeline_plan_many with the default configuration, which sends the
 * messages to the filter process (MAILSIFT filter-worker, by
 * ms_engine_run_many: a GVariant frame each way over a pipe, the
 * requests ahead of the replies) and applies the delivery policy to each
 * result. For scale, it also times a bare
 * round trip over a pipe pair (a byte each way to a forked echo process,
 * with the agent's write, poll and read): what no filter process can
 * take less than.
 * -a ACTIONS: write each message's actions (first round) to ACTIONS, one
 * line per message: its file name, a tab, and the actions as `mailsift
 * test` writes them, separated by "; ".
 *
 * Messages are filtered the way Pigeonhole's sieve-filter sees them, so
 * that `make bench` (bench/sieve-bench.py) can compare the two on the
 * same script and messages: the size is the file's (Pigeonhole's size
 * test reads the stored size), the envelope sender is the first address
 * of Return-Path, else Sender, else From, and the recipient the first of
 * Envelope-To, else To. */
#include "action.h"
#include "address.h"
#include "config.h"
#include "engine.h"
#include "header.h"
#include "pipeline.h"
#include "sieve-interp.h"
#include "sieve-script.h"
#include "source.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct
{
  char *name;
  GBytes *header;
  guint64 size;
  char *path;
  char *envelope_from;
  char *envelope_to;
  char *actions; /* what the engine did, "; "-joined (time_engine) */
} Message;

static void
message_free (Message *m)
{
  g_free (m->name);
  g_bytes_unref (m->header);
  g_free (m->path);
  g_free (m->envelope_from);
  g_free (m->envelope_to);
  g_free (m->actions);
  g_free (m);
}

/* The first address of the first of @names that has a usable one (a
 * local part and a domain), as sieve-filter takes the envelope; else
 * @fallback. Transfer full. */
static char *
envelope_address (const MsHeaderView *view, const char *const *names, const char *fallback)
{
  for (guint i = 0; names[i]; i++)
    {
      const char *value = ms_header_view_get_first (view, names[i]);
      g_auto (GStrv) addrs = value ? ms_address_list_parse (value) : NULL;
      const char *at = addrs && addrs[0] ? strrchr (addrs[0], '@') : NULL;

      if (at != NULL && at != addrs[0] && at[1] != '\0')
        return g_strdup (addrs[0]);
    }
  return g_strdup (fallback);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static GPtrArray *
load_messages (const char *dir_path, GError **error)
{
  static const char *const senders[] = { "Return-Path", "Sender", "From", NULL };
  static const char *const recipients[] = { "Envelope-To", "To", NULL };
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify) message_free);
  const char *name;

  if (dir == NULL)
    {
      g_ptr_array_unref (messages);
      return NULL;
    }
  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *data = NULL;
      gsize len;
      Message *m;

      m = g_new0 (Message, 1);
      m->name = g_strdup (names->pdata[i]);
      m->path = g_build_filename (dir_path, m->name, NULL);
      if (!g_file_get_contents (m->path, &data, &len, NULL))
        {
          message_free (m);
          continue;
        }
      {
        g_autoptr (MsHeaderView) view = ms_header_view_new (data, len);

        m->header = g_bytes_new (data, ms_header_view_get_header_size (view));
        m->envelope_from = envelope_address (view, senders, "sender@example.com");
        m->envelope_to = envelope_address (view, recipients, "recipient@example.com");
      }
      m->size = len;
      g_ptr_array_add (messages, m);
    }
  return messages;
}

static MsFilterRequest
request_for (const Message *m, const char *script_path)
{
  MsFilterRequest req = {
    .mode = MS_FILTER_EXECUTE,
    .script_path = script_path,
    .header = m->header,
    .size = m->size,
    .envelope_from = m->envelope_from,
    .envelope_to = m->envelope_to,
    .subaddress_separator = "+",
    .message_path = m->path,
  };

  return req;
}

static char *
joined_actions (const MsFilterResult *result)
{
  g_auto (GStrv) actions = ms_filter_result_format (result);

  return g_strjoinv ("; ", actions);
}

/* The engine alone: best round, in microseconds per message. */
static double
time_engine (MsSvScript *script, const char *script_path, GPtrArray *messages, int rounds, FILE *actions)
{
  double best = -1;

  for (int r = 0; r < rounds; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double per;

      for (guint i = 0; i < messages->len; i++)
        {
          g_autoptr (MsFilterResult) result = ms_filter_result_new ();
          MsFilterRequest req = request_for (messages->pdata[i], script_path);

          ms_sv_execute (script, &req, result);
          ms_filter_result_finish (result);
          if (r == 0)
            {
              Message *m = messages->pdata[i];
              m->actions = joined_actions (result);
              if (actions != NULL)
                fprintf (actions, "%s\t%s\n", m->name, m->actions);
            }
        }
      per = (double) (g_get_monotonic_time () - t0) / messages->len;
      if (best < 0 || per < best)
        best = per;
    }
  return best;
}

/* The filter step of fetch (plan_ahead in agent/fetch.c), through the filter
 * process: best round, in microseconds per message. The first message,
 * which starts the process and compiles the script, goes before the
 * clock starts. Every result must have the actions time_engine found
 * for its message; -1 when one does not, or failed. */
static double
time_filter_step (const char *exe, const char *script_path, GPtrArray *messages, int rounds)
{
  g_autoptr (MsConfig) config = ms_config_new_default ();
  g_autoptr (MsEngine) engine = ms_engine_new (exe, MS_SIEVE_MAILSIFT, config->filter_timeout,
                                               config->filter_memory);
  g_auto (MsPipeline) pipeline = { 0 };
  double best = -1;

  pipeline.config = config;
  pipeline.engine = engine;
  pipeline.script = script_path;
  for (int r = -1; r < rounds; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double per;

      guint total = r < 0 ? 1 : messages->len;

      for (guint start = 0; start < total; start += MS_FETCH_BATCH_MAX)
        {
          guint n = MIN (MS_FETCH_BATCH_MAX, total - start);
          MsPlanInput inputs[MS_FETCH_BATCH_MAX];
          MsPlan *plans[MS_FETCH_BATCH_MAX];
          gboolean failed = FALSE;

          for (guint i = 0; i < n; i++)
            {
              const Message *m = messages->pdata[start + i];
              inputs[i] = (MsPlanInput) { m->header, m->size,
                                          { m->envelope_from, m->envelope_to, m->path } };
            }
          ms_pipeline_plan_many (&pipeline, n, inputs, plans);
          for (guint i = 0; i < n; i++)
            {
              const Message *m = messages->pdata[start + i];

              if (plans[i]->result->failed)
                {
                  fprintf (stderr, "sieve-bench: the filter process failed: %s\n",
                           plans[i]->result->failure);
                  failed = TRUE;
                }
              else if (r == 0)
                {
                  /* the figure is worth something only if the step did
                   * what the engine does */
                  g_autofree char *got = joined_actions (plans[i]->result);
                  if (g_strcmp0 (got, m->actions) != 0)
                    {
                      fprintf (stderr, "sieve-bench: %s: the filter step gave \"%s\", the engine \"%s\"\n",
                               m->name, got, m->actions);
                      failed = TRUE;
                    }
                }
              ms_plan_free (plans[i]);
            }
          if (failed)
            return -1;
        }
      per = (double) (g_get_monotonic_time () - t0) / messages->len;
      if (r >= 0 && (best < 0 || per < best))
        best = per;
    }
  return best;
}

/* A byte to a forked process and back, @n times: best round, in
 * microseconds per round trip; -1 when that fails. */
static double
time_pipe_round_trip (guint n, int rounds)
{
  int to[2] = { -1, -1 }, from[2] = { -1, -1 };
  gboolean failed = FALSE;
  double best = -1;
  pid_t pid = -1;
  char c = 0;

  if (pipe (to) == 0 && pipe (from) == 0)
    pid = fork ();
  if (pid == 0)
    {
      close (to[1]);
      close (from[0]);
      while (read (to[0], &c, 1) == 1 && write (from[1], &c, 1) == 1)
        ;
      _exit (0);
    }
  if (to[0] >= 0)
    close (to[0]);
  if (from[1] >= 0)
    close (from[1]);
  for (int r = 0; pid > 0 && r < rounds && !failed; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double per;

      for (guint i = 0; i < n && !failed; i++)
        {
          struct pollfd p = { from[0], POLLIN, 0 };

          failed = write (to[1], &c, 1) != 1 || poll (&p, 1, 1000) != 1 || read (from[0], &c, 1) != 1;
        }
      per = (double) (g_get_monotonic_time () - t0) / n;
      if (best < 0 || per < best)
        best = per;
    }
  if (to[1] >= 0)
    close (to[1]); /* the echo process reads end of file and exits */
  if (from[0] >= 0)
    close (from[0]);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  return pid > 0 && !failed ? best : -1;
}

int
main (int argc, char **argv)
{
  g_autofree char *actions_path = NULL;
  g_autofree char *exe = NULL;
  GOptionEntry entries[] = {
    { "actions", 'a', 0, G_OPTION_ARG_FILENAME, &actions_path, "Write each message's actions to FILE", "FILE" },
    { "filter-step", 'f', 0, G_OPTION_ARG_FILENAME, &exe,
      "Also time fetch's filter step, through the filter process of MAILSIFT (the mailsift binary)",
      "MAILSIFT" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SCRIPT DIR [ROUNDS]");
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (MsSvScript) script = NULL;
  FILE *actions = NULL;
  gsize len;
  int rounds;
  gint64 t0, t1;
  double engine_us;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 3)
    {
      fprintf (stderr, "usage: sieve-bench [-a ACTIONS] [-f MAILSIFT] SCRIPT DIR [ROUNDS]%s%s\n",
               error ? ": " : "", error ? error->message : "");
      return 64;
    }
  rounds = argc > 3 ? MAX (atoi (argv[3]), 1) : 5;
  if (!g_file_get_contents (argv[1], &text, &len, &error)
      || (messages = load_messages (argv[2], &error)) == NULL)
    {
      fprintf (stderr, "sieve-bench: %s\n", error->message);
      return 66;
    }
  if (messages->len == 0)
    {
      fprintf (stderr, "sieve-bench: no messages in %s\n", argv[2]);
      return 66;
    }
  t0 = g_get_monotonic_time ();
  script = ms_sv_script_compile (text, len, argv[1]);
  t1 = g_get_monotonic_time ();
  if (script->errors->len)
    {
      fprintf (stderr, "sieve-bench: %s\n", (char *) script->errors->pdata[0]);
      return 65;
    }
  if (actions_path != NULL && (actions = fopen (actions_path, "w")) == NULL)
    {
      fprintf (stderr, "sieve-bench: %s: %s\n", actions_path, g_strerror (errno));
      return 73;
    }
  printf ("compile %.1f us\n", (double) (t1 - t0));
  engine_us = time_engine (script, argv[1], messages, rounds, actions);
  if (actions != NULL && fclose (actions) != 0)
    {
      fprintf (stderr, "sieve-bench: %s: %s\n", actions_path, g_strerror (errno));
      return 74;
    }
  printf ("messages %u, rounds %d\n", messages->len, rounds);
  printf ("engine %.2f us/message (best round)\n", engine_us);
  if (exe != NULL)
    {
      double step = time_filter_step (exe, argv[1], messages, rounds);
      if (step < 0)
        return 70;
      printf ("filter step %.2f us/message (best round)\n", step);
      printf ("pipe round trip %.2f us (best round)\n", time_pipe_round_trip (messages->len, rounds));
    }
  return 0;
}
