/* mailsift - personal mail filtering and forwarding agent. */
#include "commands.h"
#include "crash.h"
#include "error.h"
#include "log.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

char *ms_opt_config;
int ms_opt_verbose;
gboolean ms_opt_quiet;

static gboolean
count_verbose (const char *name, const char *value, gpointer data, GError **error)
{
  (void) name, (void) value, (void) data, (void) error;
  ms_opt_verbose++;
  return TRUE;
}

const GOptionEntry ms_common_options[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &ms_opt_config,
    "Read FILE instead of ~/.config/mailsift/config", "FILE" },
  { "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, count_verbose,
    "Log every message and decision; twice (-vv): also debug lines and each command sent to a "
    "server with its answer, passwords hidden", NULL },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &ms_opt_quiet,
    "Print nothing unless something failed (for cron)", NULL },
  G_OPTION_ENTRY_NULL
};

gboolean
ms_parse_options (const char *parameter_string, const char *summary, const char *description,
                  const GOptionEntry *entries, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (parameter_string);
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (ctx, summary);
  if (description)
    g_option_context_set_description (ctx, description);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_main_entries (ctx, ms_common_options, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      fprintf (stderr, "mailsift %s: %s\nTry 'mailsift %s --help'.\n", (*argv)[0], error->message,
               (*argv)[0]);
      return FALSE;
    }
  if (ms_opt_quiet && ms_opt_verbose)
    {
      fprintf (stderr, "mailsift %s: -q and -v ask for opposite things; use one\n", (*argv)[0]);
      return FALSE;
    }
  ms_log_init (ms_opt_quiet ? MS_LOG_QUIET : ms_opt_verbose >= 2 ? MS_LOG_DEBUG
                                            : ms_opt_verbose ? MS_LOG_INFO : MS_LOG_NOTICE);
  return TRUE;
}

MsEngine *
ms_engine_for_config (const MsConfig *config)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);

  MsSieveBackend backend = config->sieve_engine == MS_SIEVE_ENGINE_LIBSIEVE ? MS_SIEVE_LIBSIEVE
                                                                           : MS_SIEVE_MAILSIFT;
  MsEngine *engine;

  engine = ms_engine_new (self ? self : "mailsift", backend, config->filter_timeout, config->filter_memory);
  ms_engine_set_log_level (engine, ms_log_get_level ());
  return engine;
}

static const struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary; /* NULL: hidden */
} commands[] = {
  { "deliver", ms_cmd_deliver, "filter one message from standard input and deliver it (MTA mode)" },
  { "check", ms_cmd_check, "check Sieve scripts and the configuration for errors" },
  { "test", ms_cmd_test, "show what a script would do with a message, changing nothing" },
  { "fetch", ms_cmd_fetch, "fetch new mail from your IMAP and POP3 accounts, filter and deliver it" },
  { "run", ms_cmd_run, "stay in the background and fetch new mail as it arrives (IMAP IDLE)" },
  { "status", ms_cmd_status, "show when each account was last fetched, errors, and the agent" },
  { "queue", ms_cmd_queue, "list the outbound queue (redirects, replies), flush it, drop an entry" },
  { "filter-worker", ms_cmd_filter_worker, NULL },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: mailsift COMMAND [OPTION...]\n\n"
                "A personal mail agent: filters mail through your Sieve script and delivers it\n"
                "into Maildir folders.\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (commands[i].summary)
      fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nExamples:\n"
                "  mailsift check                     check ~/.config/mailsift/config and its script\n"
                "  mailsift test rules.sieve msg.eml  dry run: print the actions, one per line\n"
                "  mailsift deliver -f \"$SENDER\"      as Postfix mailbox_command or in ~/.forward\n"
                "  mailsift fetch                     fetch every configured account once\n"
                "\n'mailsift COMMAND --help' describes a command; see also mailsift(1) and\n"
                "mailsift.conf(5).\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  signal (SIGPIPE, SIG_IGN); /* a dead filter process is an error return, not a signal */
  ms_log_init (MS_LOG_NOTICE);
  {
    /* a test that names a step mailsift does not have must not pass by
     * testing nothing */
    g_autoptr (GError) error = NULL;
    if (!ms_crash_init (&error))
      {
        fprintf (stderr, "mailsift: %s\n", error->message);
        return MS_EX_USAGE;
      }
  }

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? MS_EX_USAGE : MS_EX_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("mailsift %s\n", PACKAGE_VERSION);
      return MS_EX_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "mailsift: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return MS_EX_USAGE;
}
