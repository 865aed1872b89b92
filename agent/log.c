#include "log.h"

#include <stdio.h>
#include <unistd.h>

/* 0: notice and worse, 1: + info, 2: + debug */
static int log_detail;

static GLogWriterOutput
ms_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *message = NULL;
  const char *domain = NULL;
  const char *label;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
    else if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  /* other libraries' chatter (GIO's debug lines) is not ours to show */
  if ((level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) && g_strcmp0 (domain, G_LOG_DOMAIN) != 0)
    return G_LOG_WRITER_HANDLED;
  if (message == NULL)
    return G_LOG_WRITER_UNHANDLED;

  switch (level & G_LOG_LEVEL_MASK)
    {
    case G_LOG_LEVEL_ERROR:
    case G_LOG_LEVEL_CRITICAL:
      label = "error";
      break;
    case G_LOG_LEVEL_WARNING:
      label = "warning";
      break;
    case G_LOG_LEVEL_MESSAGE:
      label = "notice";
      break;
    case G_LOG_LEVEL_INFO:
      if (log_detail < 1)
        return G_LOG_WRITER_HANDLED;
      label = "info";
      break;
    default:
      if (log_detail < 2)
        return G_LOG_WRITER_HANDLED;
      label = "debug";
      break;
    }
  fprintf (stderr, "mailsift[%d]: %s: %s\n", (int) getpid (), label, message);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
ms_log_init (gboolean verbose)
{
  static gboolean installed;

  log_detail = verbose ? 2 : 0;
  if (!installed)
    {
      g_log_set_writer_func (ms_log_writer, NULL, NULL);
      installed = TRUE;
    }
}

void
ms_log_set_level (const char *level)
{
  int detail = g_strcmp0 (level, "debug") == 0 ? 2 : g_strcmp0 (level, "info") == 0 ? 1 : 0;

  log_detail = MAX (log_detail, detail);
}

const char *
ms_log_get_level (void)
{
  return log_detail >= 2 ? "debug" : log_detail == 1 ? "info" : "notice";
}
