/* mailsift - waiting for new IMAP mail with IDLE (RFC 2177): the wait
 * step of the IMAP source (source.h), one connection per folder. */
#include "source.h"

#include "error.h"
#include "imap-session.h"

#include <string.h>

/* Whether an untagged line the server sent during IDLE announces new
 * mail ("* 12 EXISTS"). Keep-alives ("* OK Still here"), flag changes and
 * expunges do not need a fetch. */
static gboolean
idle_news (const char *line)
{
  const char *p = line;

  if (!g_str_has_prefix (p, "* "))
    return FALSE;
  p += 2;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  return g_ascii_strncasecmp (p, " EXISTS", 7) == 0;
}

typedef struct {
  MsFetch *fetch;
  const char *folder;
  gint64 deadline;       /* monotonic */
  GCancellable *done;    /* cancelled once any folder has news, or failed */
  gboolean news;
  gboolean no_idle;      /* the server does not offer IDLE */
  GError *error;
} IdleFolder;

/* One folder's IDLE on a connection of its own: until new mail, the
 * deadline, an error, or @done. Every idle_keepalive seconds it ends IDLE
 * and starts it again: the server's answer to DONE proves the connection
 * is alive (a NAT or a suspended laptop can drop it without a word). */
static gpointer
idle_folder (gpointer data)
{
  IdleFolder *w = data;
  MsFetch *f = w->fetch;
  MsImapSession im = { 0 };
  gboolean ok = ms_imap_session_open (&im, f->account, &w->error);
  guint32 *known;
  int r;

  if (ok && (r = mailimap_select (im.imap, w->folder)) != MAILIMAP_NO_ERROR)
    ok = ms_imap_fail (&im, r, w->folder, &w->error);
  /* mail that arrived after the last fetch looked: fetch now */
  known = ok && f->uidnext ? g_hash_table_lookup (f->uidnext, w->folder) : NULL;
  if (known && im.imap->imap_selection_info->sel_uidnext != *known)
    w->news = TRUE;
  else if (ok && !ms_imap_has (&im, "IDLE"))
    w->no_idle = TRUE;
  while (ok && !w->news && !w->no_idle && !g_cancellable_is_cancelled (w->done))
    {
      gint64 left = w->deadline - g_get_monotonic_time ();
      gint64 slice = MIN (left, (gint64) f->account->idle_keepalive * G_USEC_PER_SEC);

      if (left <= 0)
        break;
      if ((r = mailimap_idle (im.imap)) != MAILIMAP_NO_ERROR)
        {
          ok = ms_imap_fail (&im, r, "IDLE", &w->error);
          break;
        }
      for (gint64 end = g_get_monotonic_time () + slice; !w->news;)
        {
          const char *line;
          gint64 wait = MAX (end - g_get_monotonic_time (), 0);

          if (!ms_net_wait_input (im.imap->imap_stream, (int) (wait / 1000), w->done))
            break; /* time for a keep-alive check, or the wait is over */
          line = mailimap_read_line (im.imap);
          if (line == NULL || g_str_has_prefix (line, "* BYE"))
            {
              g_set_error (&w->error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s: the server "
                           "ended the connection during IDLE%s%s", f->account->name, w->folder,
                           line ? ": " : "", line ? g_strchomp ((char *) line) : "");
              ok = FALSE;
              break;
            }
          w->news = idle_news (line);
        }
      if (ok && (r = mailimap_idle_done (im.imap)) != MAILIMAP_NO_ERROR)
        ok = ms_imap_fail (&im, r, "ending IDLE (the connection is dead?)", &w->error);
    }
  ms_imap_session_close (&im, ok);
  if (w->news || !ok)
    g_cancellable_cancel (w->done);
  return NULL;
}

static void
on_stop (GCancellable *stop, gpointer done)
{
  g_cancellable_cancel (done);
}

/* Wait for new mail with IDLE (RFC 2177) on every folder, each on a
 * connection of its own, for at most @timeout_s (kept under 29 minutes,
 * as RFC 2177 asks) or until @stop is cancelled. TRUE: new mail (or the
 * time is up), so fetch again; FALSE with @error: a connection failed.
 * Without IDLE on the server, waits poll_interval and returns TRUE. */
gboolean
ms_imap_wait (MsFetch *f, int timeout_s, GCancellable *stop, GError **error)
{
  const char *const inbox[] = { "INBOX", NULL };
  const char *const *folders = f->account->folders && f->account->folders[0]
                                 ? (const char *const *) f->account->folders : inbox;
  guint n = g_strv_length ((char **) folders);
  g_autofree IdleFolder *w = g_new0 (IdleFolder, n);
  g_autofree GThread **threads = g_new0 (GThread *, n);
  g_autoptr (GCancellable) done = g_cancellable_new ();
  gint64 deadline = g_get_monotonic_time () + (gint64) MIN (timeout_s, 28 * 60) * G_USEC_PER_SEC;
  gulong stop_id = stop ? g_cancellable_connect (stop, G_CALLBACK (on_stop), done, NULL) : 0;
  gboolean ok = TRUE, no_idle = FALSE;

  for (guint i = 0; i < n; i++)
    {
      w[i] = (IdleFolder) { f, folders[i], deadline, done, FALSE, FALSE, NULL };
      threads[i] = g_thread_new ("idle", idle_folder, &w[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      g_thread_join (threads[i]);
      no_idle |= w[i].no_idle;
      if (w[i].error && ok)
        {
          g_propagate_error (error, g_steal_pointer (&w[i].error));
          ok = FALSE;
        }
      g_clear_error (&w[i].error);
    }
  if (stop)
    g_cancellable_disconnect (stop, stop_id);
  if (ok && no_idle && !g_cancellable_is_cancelled (done))
    {
      g_info ("account %s: the server has no IDLE; checking every %d s", f->account->name,
              f->account->poll_interval);
      g_usleep ((gulong) f->account->poll_interval * G_USEC_PER_SEC);
    }
  return ok;
}
