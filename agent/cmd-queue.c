/* mailsift queue [flush | drop ID]: the outbound queue (redirects,
 * vacation replies, reject notices, notifications). */
#include "commands.h"
#include "error.h"
#include "log.h"
#include "queue.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
list (GPtrArray *entries)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (entries->len == 0)
    {
      printf ("the queue is empty\n");
      return;
    }
  printf ("%-28s %-9s %7s %8s  %s\n", "ID", "REASON", "AGE", "ATTEMPTS", "RECIPIENTS / LAST ANSWER");
  for (guint i = 0; i < entries->len; i++)
    {
      const MsQueueEntry *e = entries->pdata[i];
      gint64 age = now - e->created;
      g_autofree char *rcpts = g_strjoinv (", ", e->recipients);
      g_autofree char *ages = age < 3600 ? g_strdup_printf ("%" G_GINT64_FORMAT "m", age / 60)
                              : age < 172800 ? g_strdup_printf ("%" G_GINT64_FORMAT "h", age / 3600)
                                             : g_strdup_printf ("%" G_GINT64_FORMAT "d", age / 86400);
      printf ("%-28s %-9s %7s %8d  %s\n", e->id, e->reason, ages, e->attempts, rcpts);
      if (e->last_reply)
        printf ("%58s%s\n", "", e->last_reply);
    }
}

int
ms_cmd_queue (int argc, char **argv)
{
  gboolean due = FALSE;
  const GOptionEntry entries[] = {
    { "due", 0, 0, G_OPTION_ARG_NONE, &due, "flush: only what is due (what mailsift run does); "
      "without it, everything now", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) config = NULL;
  g_autoptr (MsState) state = NULL;
  g_autoptr (GPtrArray) all = NULL;

  if (!ms_parse_options ("[flush | drop ID]", "List the outbound queue; flush: send everything "
                         "now; drop ID: remove one entry without sending it.",
                         "Exit status: 0 done (flush: nothing left to retry); 75 flush left "
                         "messages for later, or the state store failed; 78 configuration error.",
                         entries, &argc, &argv))
    return MS_EX_USAGE;
  config = ms_config_load (ms_opt_config, NULL, &error);
  if (config == NULL)
    {
      g_printerr ("mailsift queue: %s\n", error->message);
      return MS_EX_CONFIG;
    }
  ms_log_set_level (config->log_level);
  ms_log_set_target (config->log);
  state = ms_state_open (config->state_dir, &error);
  if (state == NULL)
    {
      g_printerr ("mailsift queue: %s\n", error->message);
      return MS_EX_TEMPFAIL;
    }
  if (argc == 1)
    {
      all = ms_state_queue_list (state, &error);
      if (all == NULL)
        {
          g_printerr ("mailsift queue: %s\n", error->message);
          return MS_EX_TEMPFAIL;
        }
      list (all);
      return MS_EX_OK;
    }
  if (argc == 2 && strcmp (argv[1], "flush") == 0)
    {
      MsQueueStats st;
      if (!ms_queue_flush (state, config, !due, &st, &error))
        {
          g_printerr ("mailsift queue: %s\n", error->message);
          return MS_EX_TEMPFAIL;
        }
      /* -q: only when something did not go */
      if (!ms_opt_quiet || st.deferred || st.failed)
        {
          g_autofree char *line = ms_queue_stats_format (&st);
          printf ("%s\n", line);
        }
      return st.deferred ? MS_EX_TEMPFAIL : MS_EX_OK;
    }
  if (argc == 3 && strcmp (argv[1], "drop") == 0)
    {
      all = ms_state_queue_list (state, &error);
      for (guint i = 0; all && i < all->len; i++)
        {
          MsQueueEntry *e = all->pdata[i];
          if (strcmp (e->id, argv[2]) != 0)
            continue;
          if (!ms_state_queue_delete (state, e->id, &error))
            break;
          unlink (e->file);
          printf ("dropped %s (%s to %s)\n", e->id, e->reason, e->recipients[0] ? e->recipients[0] : "");
          return MS_EX_OK;
        }
      if (error == NULL)
        g_printerr ("mailsift queue: no entry %s (mailsift queue lists them)\n", argv[2]);
      else
        g_printerr ("mailsift queue: %s\n", error->message);
      return 1;
    }
  g_printerr ("mailsift queue: expected nothing, 'flush' or 'drop ID'\nTry 'mailsift queue --help'.\n");
  return MS_EX_USAGE;
}
