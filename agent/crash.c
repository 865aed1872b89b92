#include "crash.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keep in step with the README's "Crash points". */
static const char *const steps[] = {
  "spool-write",      /* a fetched or delivered message is written to tmp/ (not fsync'd yet) */
  "spool-fsync",      /* that file is fsync'd */
  "journal-commit",   /* a fetch batch's journal (UID -> unique name) is committed */
  "maildir-link",     /* a copy is linked (or renamed) into new/ or cur/ of a folder */
  "folder-fsync",     /* that new/ or cur/ is fsync'd */
  "state-commit",     /* the delivery records are committed (seen, duplicates, queue rows) */
  "imap-store",       /* the server answered OK to UID STORE (\Seen or \Deleted) */
  "imap-expunge",     /* the server answered OK to UID EXPUNGE */
  "imap-move",        /* the server answered OK to UID MOVE */
  "pop3-dele",        /* the server answered +OK to a batch's DELE commands (QUIT not sent) */
  "queue-file",       /* a queue file and its directory entry are on disk, its row not committed */
  "queue-row",        /* the queue row is committed (in a fetch batch: released into the batch) */
  "smtp-250",         /* the smarthost accepted a queued message, nothing recorded yet */
  "queue-row-delete", /* the queue row of a sent message is deleted, its file not yet */
  "sift-copy",        /* fileinto_target = server: UID COPY answered OK, not recorded yet */
  "imap-append",      /* deliver_to = imap: APPEND answered OK, not recorded yet */
  NULL
};

gboolean ms_crash_on;
static const char *crash_step; /* armed by MAILSIFT_CRASH_AT, or NULL */
static guint64 crash_at;
static guint64 passes;
static int trace_fd = -1;

const char *const *
ms_crash_steps (void)
{
  return steps;
}

gboolean
ms_crash_armed (void)
{
  return crash_step != NULL;
}

static gboolean
parse_at (const char *spec, GError **error)
{
  const char *colon = strrchr (spec, ':');
  char *end = NULL;
  guint64 n = 0;

  if (colon != NULL)
    n = g_ascii_strtoull (colon + 1, &end, 10);
  for (guint i = 0; colon != NULL && steps[i]; i++)
    if (strlen (steps[i]) == (gsize) (colon - spec) && strncmp (steps[i], spec, colon - spec) == 0
        && end != colon + 1 && *end == '\0' && n > 0)
      {
        crash_step = steps[i];
        crash_at = n;
        return TRUE;
      }
  {
    g_autofree char *known = g_strjoinv (", ", (char **) steps);
    g_set_error (error, MS_ERROR, MS_ERROR_CONFIG,
                 "MAILSIFT_CRASH_AT=%s: expected STEP:N (N counts from 1), STEP one of: %s", spec,
                 known);
  }
  return FALSE;
}

gboolean
ms_crash_init (GError **error)
{
  const char *spec = g_getenv ("MAILSIFT_CRASH_AT");
  const char *trace = g_getenv ("MAILSIFT_CRASH_TRACE");

  if (spec != NULL && *spec != '\0' && !parse_at (spec, error))
    return FALSE;
  if (trace != NULL && *trace != '\0')
    {
      /* forked account workers share it; an exec'd filter process opens it again */
      trace_fd = open (trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (trace_fd < 0)
        return ms_set_errno_error (error, errno, MS_ERROR_CONFIG, "MAILSIFT_CRASH_TRACE=%s", trace);
    }
  ms_crash_on = crash_step != NULL || trace_fd >= 0;
  return TRUE;
}

void
ms_crash_pass (const char *name)
{
  if (trace_fd >= 0)
    {
      g_autofree char *line = g_strconcat (name, "\n", NULL);
      /* O_APPEND: one write, one line, also from parallel workers */
      if (write (trace_fd, line, strlen (line)) < 0)
        g_warning ("MAILSIFT_CRASH_TRACE: %s", g_strerror (errno));
    }
  if (crash_step == NULL || strcmp (name, crash_step) != 0 || ++passes != crash_at)
    return;
  /* stderr is unbuffered: the test sees where it stopped */
  g_printerr ("mailsift: MAILSIFT_CRASH_AT=%s:%" G_GUINT64_FORMAT ": crashing here\n", name, crash_at);
  _exit (MS_CRASH_EXIT);
}
