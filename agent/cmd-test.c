/* mailsift test SCRIPT MESSAGE: a dry run. Prints the actions, one per
 * line, in the format of ms_action_format(); diagnostics on stderr.
 * Nothing is delivered, queued or recorded. */
#include "commands.h"
#include "error.h"
#include "pipeline.h"
#include "spool.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Copy standard input into a new temporary file (@path_out, for the
 * caller to remove) and return it open at its start; -1 with @error. */
static int
stdin_to_file (char **path_out, GError **error)
{
  g_autofree char *buf = g_malloc (65536);
  int fd = g_file_open_tmp ("mailsift-test-XXXXXX", path_out, error);
  ssize_t n;

  if (fd < 0)
    return -1;
  while ((n = read (STDIN_FILENO, buf, 65536)) > 0 || (n < 0 && errno == EINTR))
    for (ssize_t done = 0, w; n > 0 && done < n; done += w)
      if ((w = write (fd, buf + done, n - done)) < 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot write %s: %s",
                       *path_out, g_strerror (errno));
          close (fd);
          unlink (*path_out);
          return -1;
        }
  if (n < 0 || lseek (fd, 0, SEEK_SET) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot read standard input: %s",
                   g_strerror (errno));
      close (fd);
      unlink (*path_out);
      return -1;
    }
  return fd;
}

/* test's command line. */
typedef struct {
  char *env_from;  /* -f */
  char *env_to;    /* -a */
  char **addresses; /* --address, added to the config's */
  gboolean trace;  /* -t */
} TestArgs;

static void
test_args_clear (TestArgs *args)
{
  g_free (args->env_from);
  g_free (args->env_to);
  g_strfreev (args->addresses);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TestArgs, test_args_clear)

/* Read test's options into @args; SCRIPT and MESSAGE stay in @argv.
 * FALSE: bad usage, said on stderr. */
static gboolean
read_options (int *argc, char ***argv, TestArgs *args)
{
  const GOptionEntry entries[] = {
    { "envelope-from", 'f', 0, G_OPTION_ARG_STRING, &args->env_from, "Envelope sender (default: none)", "ADDRESS" },
    { "envelope-to", 'a', 0, G_OPTION_ARG_STRING, &args->env_to, "Envelope recipient (default: none)", "ADDRESS" },
    { "address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &args->addresses, "One of your addresses (repeatable; adds to the config's)", "ADDRESS" },
    { "trace", 't', 0, G_OPTION_ARG_NONE, &args->trace, "Show the headers looked up, the comparisons made and the actions taken", NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!ms_parse_options ("SCRIPT MESSAGE", "Show what SCRIPT would do with MESSAGE (a file, or - for "
                         "standard input). Nothing is delivered or sent.",
                         "Output, one action per line:\n"
                         "  keep [flags=\\Seen,...]        fileinto \"Folder\" [flags=...]\n"
                         "  redirect \"address\"             discard\n"
                         "  reject \"reason\"                vacation to=\"..\" subject=\"..\" days=N\n"
                         "  notify method=\"mailto:..\"\n"
                         "Header changes (editheader) come before the first action that delivers\n"
                         "them: addheader [:last] \"Name: value\", deleteheader \"Name: value\".\n"
                         "A script with errors prints its errors on stderr and 'keep', which is\n"
                         "what delivery would do. Vacation is shown only when it would be sent\n"
                         "(the :days history is not consulted).\n\n"
                         "Exit status: 0 ran (even if the script is broken), 64 usage, 66 no message,\n"
                         "78 bad configuration.",
                         entries, argc, argv))
    return FALSE;
  if (*argc != 3)
    {
      g_printerr ("mailsift test: expected SCRIPT and MESSAGE\nTry 'mailsift test --help'.\n");
      return FALSE;
    }
  return TRUE;
}

/* The configuration (-c, else the default file, else the defaults),
 * with @addresses added to its own. NULL when it cannot be read (said on
 * stderr). */
static MsConfig *
load_config (char **addresses)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *default_config = ms_config_default_path ();
  MsConfig *config;

  config = ms_opt_config || g_file_test (default_config, G_FILE_TEST_EXISTS)
             ? ms_config_load (ms_opt_config, NULL, &error)
             : ms_config_new_default ();
  if (config == NULL)
    {
      g_printerr ("mailsift test: %s\n", error->message);
      return NULL;
    }
  if (addresses)
    {
      g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
      if (config->addresses)
        g_strv_builder_addv (b, (const char **) config->addresses);
      g_strv_builder_addv (b, (const char **) addresses);
      g_strfreev (config->addresses);
      config->addresses = g_strv_builder_end (b);
    }
  return config;
}

/* The header and size of the message @arg names (a file, or - for
 * standard input), into @header and @size; @message_path gets where the
 * whole message is for the filter (NULL: only the header is at hand).
 * A script that reads the body needs standard input in a file: then it
 * is copied to @stdin_copy, which the caller removes. Returns
 * MS_EX_NOINPUT (said on stderr) when the message cannot be read, else
 * MS_EX_OK. */
static int
read_message (MsPipeline *pipeline, const char *arg, char **stdin_copy, const char **message_path,
              GBytes **header, guint64 *size)
{
  g_autoptr (GError) error = NULL;
  int fd;

  *message_path = strcmp (arg, "-") == 0 ? NULL : arg;
  /* a script that reads the body needs standard input in a file */
  if (*message_path == NULL && ms_pipeline_needs_body (pipeline))
    {
      if ((fd = stdin_to_file (stdin_copy, &error)) < 0)
        {
          g_printerr ("mailsift test: %s\n", error->message);
          return MS_EX_NOINPUT;
        }
      *message_path = *stdin_copy;
    }
  else
    fd = *message_path ? open (*message_path, O_RDONLY | O_CLOEXEC) : dup (STDIN_FILENO);
  if (fd < 0)
    {
      g_printerr ("mailsift test: cannot open message %s: %s\n", arg, g_strerror (errno));
      return MS_EX_NOINPUT;
    }
  if (!ms_message_scan (fd, header, size, &error))
    {
      close (fd);
      if (*stdin_copy)
        unlink (*stdin_copy);
      g_printerr ("mailsift test: %s: %s\n", arg, error->message);
      return MS_EX_NOINPUT;
    }
  close (fd);
  return MS_EX_OK;
}

/* What the dry run found: the trace, errors, warnings and notes on
 * stderr, the actions on stdout. */
static void
print_plan (const MsPlan *plan)
{
  g_auto (GStrv) lines = NULL;

  for (guint i = 0; i < plan->result->trace->len; i++)
    g_printerr ("trace: %s\n", (char *) plan->result->trace->pdata[i]);
  for (guint i = 0; i < plan->result->errors->len; i++)
    g_printerr ("%s\n", (char *) plan->result->errors->pdata[i]);
  for (guint i = 0; i < plan->result->warnings->len; i++)
    g_printerr ("warning: %s\n", (char *) plan->result->warnings->pdata[i]);
  for (guint i = 0; i < plan->notes->len; i++)
    g_printerr ("note: %s\n", (char *) plan->notes->pdata[i]);
  lines = ms_filter_result_format (plan->result);
  for (guint i = 0; lines[i]; i++)
    printf ("%s\n", lines[i]);
}

int
ms_cmd_test (int argc, char **argv)
{
  g_auto (TestArgs) args = { 0 };
  g_autoptr (MsConfig) config = NULL;
  g_autoptr (MsState) history = NULL;
  g_autoptr (MsEngine) engine = NULL;
  g_autoptr (MsPlan) plan = NULL;
  g_autoptr (GBytes) header = NULL;
  guint64 size = 0;
  g_auto (MsPipeline) pipeline = { 0 };
  MsEnvelope envelope = { 0 };
  g_autofree char *stdin_copy = NULL;
  int code;

  if (!read_options (&argc, &argv, &args))
    return MS_EX_USAGE;
  config = load_config (args.addresses);
  if (config == NULL)
    return MS_EX_CONFIG;

  if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("mailsift test: cannot read script %s\n", argv[1]);
      return MS_EX_NOINPUT;
    }
  /* duplicate: the filter process reads the history read-only and, in
   * its sandbox, only while the agent has the store open, as deliver and
   * fetch do; none yet is fine */
  history = ms_state_open_readonly (config->state_dir, NULL);
  engine = ms_engine_for_config (config);
  pipeline.config = config;
  pipeline.engine = engine;
  pipeline.script = argv[1];
  pipeline.trace = args.trace;

  code = read_message (&pipeline, argv[2], &stdin_copy, &envelope.message_path, &header, &size);
  if (code != MS_EX_OK)
    return code;
  envelope.envelope_from = args.env_from;
  envelope.envelope_to = args.env_to;
  plan = ms_pipeline_plan (&pipeline, header, size, &envelope);
  if (stdin_copy)
    unlink (stdin_copy);
  print_plan (plan);
  return MS_EX_OK;
}
