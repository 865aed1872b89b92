/* mailsift - logging (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static MsLogDetail log_detail;
static gboolean to_syslog;
static int syslog_fd = -1;
/* whether stderr is the journal (systemd sets JOURNAL_STREAM to the
 * device and inode of the stream it gave us): then it has timestamps */
static gboolean stderr_is_journal;

static gboolean
stderr_to_journal (void)
{
  const char *js = g_getenv ("JOURNAL_STREAM");
  unsigned long long dev, ino;
  struct stat st;

  return js != NULL && sscanf (js, "%llu:%llu", &dev, &ino) == 2 && fstat (STDERR_FILENO, &st) == 0
         && (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

/* RFC 3164 over the local syslog socket, facility mail (2). The socket
 * is /dev/log; MAILSIFT_SYSLOG_SOCKET names another one (the tests use
 * it). FALSE when it cannot be reached: then the line goes to stderr. */
static gboolean
write_syslog (int severity, const char *message)
{
  const char *path = g_getenv ("MAILSIFT_SYSLOG_SOCKET");
  g_autofree char *line = NULL;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };

  if (path == NULL || *path == '\0')
    path = "/dev/log";
  if (syslog_fd < 0)
    {
      if (strlen (path) >= sizeof sa.sun_path)
        return FALSE;
      strcpy (sa.sun_path, path);
      syslog_fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (syslog_fd < 0)
        return FALSE;
      if (connect (syslog_fd, (struct sockaddr *) &sa, sizeof sa) != 0)
        {
          close (syslog_fd);
          syslog_fd = -1;
          return FALSE;
        }
    }
  line = g_strdup_printf ("<%d>mailsift[%d]: %s", 2 * 8 + severity, (int) getpid (), message);
  return send (syslog_fd, line, strlen (line), MSG_NOSIGNAL) >= 0;
}

static GLogWriterOutput
ms_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *message = NULL;
  const char *domain = NULL;
  const char *label;
  int severity;

  (void) user_data;
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
      label = "error", severity = 3;
      break;
    case G_LOG_LEVEL_WARNING:
      label = "warning", severity = 4;
      break;
    case G_LOG_LEVEL_MESSAGE:
      if (log_detail < MS_LOG_NOTICE)
        return G_LOG_WRITER_HANDLED;
      label = "notice", severity = 5;
      break;
    case G_LOG_LEVEL_INFO:
      if (log_detail < MS_LOG_INFO)
        return G_LOG_WRITER_HANDLED;
      label = "info", severity = 6;
      break;
    default:
      if (log_detail < MS_LOG_DEBUG)
        return G_LOG_WRITER_HANDLED;
      label = "debug", severity = 7;
      break;
    }
  if (to_syslog)
    {
      g_autofree char *text = g_strdup_printf ("%s: %s", label, message);
      if (write_syslog (severity, text))
        return G_LOG_WRITER_HANDLED;
    }
  if (stderr_is_journal)
    fprintf (stderr, "mailsift[%d]: %s: %s\n", (int) getpid (), label, message);
  else
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d %H:%M:%S");
      fprintf (stderr, "%s mailsift[%d]: %s: %s\n", stamp, (int) getpid (), label, message);
    }
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
ms_log_init (MsLogDetail detail)
{
  static gboolean installed;

  log_detail = detail;
  if (!installed)
    {
      stderr_is_journal = stderr_to_journal ();
      g_log_set_writer_func (ms_log_writer, NULL, NULL);
      installed = TRUE;
    }
}

void
ms_log_set_level (MsLogLevel level)
{
  MsLogDetail detail = level == MS_LOG_LEVEL_DEBUG ? MS_LOG_DEBUG
                       : level == MS_LOG_LEVEL_INFO ? MS_LOG_INFO
                                                    : MS_LOG_NOTICE;

  if (log_detail != MS_LOG_QUIET)
    log_detail = MAX (log_detail, detail);
}

gboolean
ms_log_shows (MsLogDetail detail)
{
  return log_detail >= detail;
}

void
ms_log_set_target (MsLogTarget target)
{
  to_syslog = target == MS_LOG_TO_SYSLOG;
}

const char *
ms_log_option (void)
{
  switch (log_detail)
    {
    case MS_LOG_QUIET:
      return "-q";
    case MS_LOG_INFO:
      return "-v";
    case MS_LOG_DEBUG:
      return "-vv";
    default:
      return NULL;
    }
}

const char *
ms_log_get_level (void)
{
  return log_detail >= 2 ? "debug" : log_detail == 1 ? "info" : "notice";
}
