/* mailsift deliver: MTA mode. One message on stdin -> Sieve -> Maildir and
 * the outbound queue. Exit 0 only when it is durably delivered; 75 tells
 * the MTA to try again later. An unusable state store does not stop
 * delivery: what needs it is left out, the message is kept. */
#include "commands.h"
#include "deliver-maildir.h"
#include "error.h"
#include "log.h"
#include "pipeline.h"
#include "queue.h"
#include "spool.h"
#include "state.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The envelope sender when no -f is given: the MTA's environment
 * (Postfix local(8) sets SENDER), else the Return-Path header. */
static char *
guess_sender (const MsHeaderView *view)
{
  const char *env = g_getenv ("SENDER");
  const char *rp;

  if (env)
    return g_strdup (env);
  rp = ms_header_view_get_first (view, "Return-Path");
  if (rp == NULL)
    return NULL;
  while (*rp == ' ' || *rp == '<')
    rp++;
  return g_strndup (rp, strcspn (rp, ">"));
}

static gboolean
queued_something (const MsPlan *plan)
{
  for (guint i = 0; i < plan->result->actions->len; i++)
    if (ms_action_info (((MsAction *) plan->result->actions->pdata[i])->kind)->sends)
      return TRUE;
  return FALSE;
}

/* deliver's command line. */
typedef struct {
  char *sender;    /* -f; when NULL, guessed once the message is read */
  char *recipient; /* -a */
  char *script;    /* --script */
  char *maildir;   /* --maildir */
} DeliverArgs;

static void
deliver_args_clear (DeliverArgs *args)
{
  g_free (args->sender);
  g_free (args->recipient);
  g_free (args->script);
  g_free (args->maildir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DeliverArgs, deliver_args_clear)

/* Read deliver's options into @args. FALSE: bad usage, said on stderr. */
static gboolean
read_options (int *argc, char ***argv, DeliverArgs *args)
{
  const GOptionEntry entries[] = {
    { "from", 'f', 0, G_OPTION_ARG_STRING, &args->sender, "Envelope sender (default: $SENDER, then Return-Path)", "ADDRESS" },
    { "recipient", 'a', 0, G_OPTION_ARG_STRING, &args->recipient, "Envelope recipient (default: $RECIPIENT)", "ADDRESS" },
    { "script", 0, 0, G_OPTION_ARG_FILENAME, &args->script, "Sieve script to run instead of the configured one", "FILE" },
    { "maildir", 0, 0, G_OPTION_ARG_FILENAME, &args->maildir, "Maildir to deliver into instead of the configured one", "DIR" },
    G_OPTION_ENTRY_NULL
  };

  if (!ms_parse_options ("", "Read one message on standard input, filter it through your Sieve "
                         "script and deliver it.",
                         "Exit status: 0 delivered; 75 not delivered, try again later (the MTA\n"
                         "keeps the message); 64 bad usage.\n\n"
                         "Postfix:   mailbox_command = /usr/local/bin/mailsift deliver -f \"$SENDER\" -a \"$RECIPIENT\"\n"
                         "~/.forward: \"|/usr/local/bin/mailsift deliver\"",
                         entries, argc, argv))
    return FALSE;
  if (*argc > 1)
    {
      g_printerr ("mailsift deliver: unexpected argument '%s' (the message is read from standard input)\n", (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

/* The configuration, with the log set up as it says and --maildir and
 * --script in place of its own. NULL when it cannot be read (logged). */
static MsConfig *
load_config (const DeliverArgs *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) config = ms_config_load (ms_opt_config, NULL, &error);

  if (config == NULL)
    {
      g_warning ("not delivering, the MTA will retry: %s", error->message);
      return NULL;
    }
  ms_log_set_level (config->log_level);
  ms_log_set_target (config->log);
  if (args->maildir)
    {
      g_free (config->maildir);
      config->maildir = g_strdup (args->maildir);
    }
  if (args->script)
    {
      g_free (config->script);
      config->script = g_strdup (args->script);
    }
  return g_steal_pointer (&config);
}

/* Standard input into a spool file in the Maildir's tmp/; then the
 * sweep of what earlier runs left in tmp/. NULL when the message cannot
 * be stored (logged). */
static MsSpool *
spool_stdin (const MsConfig *config)
{
  g_autoptr (GError) error = NULL;
  MsSpool *spool;

  ms_spool_install_cleanup ();
  spool = ms_spool_from_fd (STDIN_FILENO, config->maildir, &error);
  if (spool == NULL)
    {
      g_warning ("cannot store the message in %s, the MTA will retry: %s", config->maildir, error->message);
      return NULL;
    }
  if (spool->size == 0)
    g_warning ("the message is empty; delivering it anyway");
  ms_maildir_sweep_tmp (config->maildir);
  return spool;
}

/* Open the state store into @state_out. Mail must not wait for a broken
 * state store: what needs it is left out (ms_pipeline_plan_without_state),
 * the rest is delivered, and @state_out is NULL. Only a store that is
 * busy, which the next try finds free, defers: FALSE (logged). */
static gboolean
open_state (const MsConfig *config, MsState **state_out)
{
  g_autoptr (GError) error = NULL;
  MsStateHealth health = MS_STATE_OK;

  *state_out = ms_state_open_checked (config->state_dir, &health, &error);
  if (*state_out == NULL && health == MS_STATE_BUSY)
    {
      g_warning ("not delivering, the MTA will retry: %s", error->message);
      return FALSE;
    }
  if (*state_out == NULL)
    g_warning ("delivering without the state store, which is unusable (redirect and reject keep "
               "the message instead, vacation and notify are not sent, duplicate IDs are not "
               "remembered): %s", error->message);
  return TRUE;
}

/* The plan for the spooled message: its envelope (@sender guessed from
 * the environment or the message when no -f gave it), the filter's
 * decision, without what needs the state store when there is none; its
 * errors, notes and warnings go to the log. Transfer full. */
static MsPlan *
make_plan (MsPipeline *pipeline, MsSpool *spool, const char *recipient, char **sender)
{
  MsEnvelope envelope = { 0 };
  MsPlan *plan;

  envelope.envelope_to = recipient ? recipient : g_getenv ("RECIPIENT");
  if (*sender == NULL)
    {
      g_autoptr (MsHeaderView) view = NULL;
      gsize hlen;
      const char *h = g_bytes_get_data (spool->header, &hlen);
      view = ms_header_view_new (h, hlen);
      *sender = guess_sender (view);
    }
  envelope.envelope_from = *sender;
  envelope.message_path = spool->path;

  plan = ms_pipeline_plan (pipeline, spool->header, spool->size, &envelope);
  if (pipeline->state == NULL)
    ms_pipeline_plan_without_state (plan, "the state store is unusable");
  for (guint i = 0; i < plan->result->errors->len; i++)
    g_warning ("message %s: %s", plan->message_id, (char *) plan->result->errors->pdata[i]);
  for (guint i = 0; i < plan->notes->len; i++)
    g_message ("message %s: %s", plan->message_id, (char *) plan->notes->pdata[i]);
  for (guint i = 0; i < plan->result->warnings->len; i++)
    g_message ("message %s: %s", plan->message_id, (char *) plan->result->warnings->pdata[i]);
  return plan;
}

/* Carry @plan out. Delivery is one commit: a SIGTERM waits until it is
 * done or undone, so an MTA never sees 75 for a message that was
 * delivered. When the state store or the queue beside it failed for
 * good (not busy), what needs neither is delivered, as when the store
 * is unusable (pipeline->state becomes NULL). FALSE with @error: not
 * delivered. */
static gboolean
execute (MsPipeline *pipeline, MsPlan *plan, MsSpool *spool, char **summary, GError **error)
{
  sigset_t fatal;
  gboolean delivered;

  sigemptyset (&fatal);
  sigaddset (&fatal, SIGTERM);
  sigaddset (&fatal, SIGINT);
  sigaddset (&fatal, SIGHUP);
  sigprocmask (SIG_BLOCK, &fatal, NULL);
  delivered = ms_pipeline_execute (pipeline, plan, spool, NULL, summary, error);
  /* the state store or the queue beside it failed for good (not busy):
   * deliver what needs neither, as above */
  if (!delivered && pipeline->state != NULL && ms_state_get_health (pipeline->state) != MS_STATE_BUSY)
    {
      g_autofree char *why = g_strdup_printf ("the state store or its queue cannot be written (%s)",
                                              (*error)->message);
      guint shown = plan->notes->len;

      if (ms_pipeline_plan_without_state (plan, why))
        {
          for (guint i = shown; i < plan->notes->len; i++)
            g_warning ("message %s: %s", plan->message_id, (char *) plan->notes->pdata[i]);
          g_clear_error (error);
          pipeline->state = NULL;
          delivered = ms_pipeline_execute (pipeline, plan, spool, NULL, summary, error);
        }
    }
  if (delivered)
    {
      signal (SIGTERM, SIG_IGN);
      signal (SIGINT, SIG_IGN);
      signal (SIGHUP, SIG_IGN);
    }
  sigprocmask (SIG_UNBLOCK, &fatal, NULL);
  return delivered;
}

/* The message is delivered; sending what it queued is a bonus (bounded
 * by the smarthost timeouts), and what fails stays queued. */
static void
send_queued (const MsPipeline *pipeline, MsState *state, const MsConfig *config, const MsPlan *plan)
{
  if (pipeline->state != NULL && config->smtp->len > 0 && queued_something (plan))
    {
      MsQueueStats st;
      g_autoptr (GError) qerror = NULL;
      if (!ms_queue_flush (state, config, FALSE, &st, &qerror))
        g_warning ("outbound queue not sent: %s", qerror->message);
    }
}

int
ms_cmd_deliver (int argc, char **argv)
{
  g_auto (DeliverArgs) args = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) config = NULL;
  g_autoptr (MsSpool) spool = NULL;
  g_autoptr (MsState) state = NULL;
  g_autoptr (MsEngine) engine = NULL;
  g_autoptr (MsPlan) plan = NULL;
  g_autofree char *summary = NULL;
  g_auto (MsPipeline) pipeline = { 0 };

  if (!read_options (&argc, &argv, &args))
    return MS_EX_USAGE;
  config = load_config (&args);
  if (config == NULL)
    return MS_EX_TEMPFAIL;
  spool = spool_stdin (config);
  if (spool == NULL)
    return MS_EX_TEMPFAIL;
  if (!open_state (config, &state))
    return MS_EX_TEMPFAIL;

  engine = ms_engine_for_config (config);
  pipeline.config = config;
  pipeline.engine = engine;
  pipeline.state = state;
  plan = make_plan (&pipeline, spool, args.recipient, &args.sender);
  if (!execute (&pipeline, plan, spool, &summary, &error))
    {
      g_warning ("message %s not delivered, the MTA will retry: %s", plan->message_id, error->message);
      return MS_EX_TEMPFAIL;
    }
  g_info ("message %s from <%s>: %s", plan->message_id, args.sender ? args.sender : "", summary);
  send_queued (&pipeline, state, config, plan);
  return MS_EX_OK;
}
