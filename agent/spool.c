#include "spool.h"

#include "deliver-maildir.h"
#include "error.h"
#include "header.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- cleanup */

/* Fixed slots, so the signal handler needs no allocation or locking. */
#define CLEANUP_SLOTS 8
#define CLEANUP_PATH_MAX 4096
static char cleanup_paths[CLEANUP_SLOTS][CLEANUP_PATH_MAX];
static volatile sig_atomic_t cleanup_used[CLEANUP_SLOTS];

void
ms_cleanup_add (const char *path)
{
  for (int i = 0; i < CLEANUP_SLOTS; i++)
    if (!cleanup_used[i] && strlen (path) < CLEANUP_PATH_MAX)
      {
        strcpy (cleanup_paths[i], path);
        cleanup_used[i] = 1;
        return;
      }
}

void
ms_cleanup_remove (const char *path)
{
  for (int i = 0; i < CLEANUP_SLOTS; i++)
    if (cleanup_used[i] && strcmp (cleanup_paths[i], path) == 0)
      cleanup_used[i] = 0;
}

static void
on_fatal_signal (int sig)
{
  for (int i = 0; i < CLEANUP_SLOTS; i++)
    if (cleanup_used[i])
      unlink (cleanup_paths[i]);
  _exit (75); /* EX_TEMPFAIL: an MTA will retry */
}

void
ms_spool_install_cleanup (void)
{
  struct sigaction sa = { 0 };

  sa.sa_handler = on_fatal_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
}

/* ---------------------------------------------------------------- spool */

void
ms_spool_free (MsSpool *spool)
{
  if (spool == NULL)
    return;
  if (spool->path)
    {
      unlink (spool->path);
      ms_cleanup_remove (spool->path);
    }
  g_free (spool->path);
  g_free (spool->unique);
  g_clear_pointer (&spool->header, g_bytes_unref);
  g_free (spool);
}

static gboolean
write_all (int fd, const char *buf, gsize len, const char *path, GError **error)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot write %s", path);
      buf += n;
      len -= n;
    }
  return TRUE;
}

/* Collects the header block while the message streams past: everything
 * up to and including the first empty line, at most MS_HEADER_MAX_BYTES. */
typedef struct {
  GByteArray *bytes;
  gboolean done;
  char last; /* previous byte, to spot "\n\n" across chunks */
} HeaderTap;

static void
header_tap (HeaderTap *tap, const char *buf, gsize len)
{
  gsize take = 0;

  if (tap->done)
    return;
  while (take < len)
    {
      char c = buf[take++];
      if (c == '\n' && tap->last == '\n')
        {
          tap->done = TRUE;
          break;
        }
      tap->last = c;
    }
  take = MIN (take, MS_HEADER_MAX_BYTES - tap->bytes->len);
  g_byte_array_append (tap->bytes, (const guint8 *) buf, take);
  if (tap->bytes->len >= MS_HEADER_MAX_BYTES)
    tap->done = TRUE;
}

/* Stream @in to @out (-1: nowhere), CRLF -> LF, tapping the header. */
static gboolean
copy_message (int in, int out_fd, const char *path, HeaderTap *tap, guint64 *size, GError **error)
{
  g_autofree char *buf = g_malloc (65536);
  g_autofree char *out = g_malloc (65536 + 1);
  gboolean pending_cr = FALSE;

  for (;;)
    {
      ssize_t n = read (in, buf, 65536);
      gsize o = 0;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot read the message");
      if (n == 0 && pending_cr)
        out[o++] = '\r';
      /* a CR at the end of a chunk waits to see whether LF follows */
      for (ssize_t i = 0; i < n; i++)
        {
          if (pending_cr)
            {
              pending_cr = FALSE;
              if (buf[i] != '\n')
                out[o++] = '\r';
            }
          if (buf[i] == '\r')
            pending_cr = TRUE;
          else
            out[o++] = buf[i];
        }
      header_tap (tap, out, o);
      if (out_fd >= 0 && !write_all (out_fd, out, o, path, error))
        return FALSE;
      *size += o;
      if (n == 0)
        return TRUE;
    }
}

MsSpool *
ms_spool_from_fd (int in, const char *maildir_root, GError **error)
{
  g_autoptr (MsSpool) spool = g_new0 (MsSpool, 1);
  HeaderTap tap = { g_byte_array_new (), FALSE, '\n' };
  GError *local = NULL;
  int fd;

  if (!ms_maildir_ensure (maildir_root, FALSE, error))
    {
      g_byte_array_unref (tap.bytes);
      return NULL;
    }
  spool->unique = ms_maildir_unique_name ();
  spool->path = g_build_filename (maildir_root, "tmp", spool->unique, NULL);
  ms_cleanup_add (spool->path);
  fd = open (spool->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      ms_cleanup_remove (spool->path);
      g_clear_pointer (&spool->path, g_free);
      g_byte_array_unref (tap.bytes);
      ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot create a file in %s/tmp",
                          maildir_root);
      return NULL;
    }
  if (copy_message (in, fd, spool->path, &tap, &spool->size, &local) && fsync (fd) != 0)
    ms_set_errno_error (&local, errno, MS_ERROR_TEMPORARY, "cannot fsync %s", spool->path);
  if (close (fd) != 0 && local == NULL)
    ms_set_errno_error (&local, errno, MS_ERROR_TEMPORARY, "cannot close %s", spool->path);
  spool->header = g_byte_array_free_to_bytes (tap.bytes);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL; /* the autoptr unlinks the partial file */
    }
  return g_steal_pointer (&spool);
}

gboolean
ms_message_scan (int fd, GBytes **header_out, guint64 *size_out, GError **error)
{
  HeaderTap tap = { g_byte_array_new (), FALSE, '\n' };
  guint64 size = 0;

  if (!copy_message (fd, -1, NULL, &tap, &size, error))
    {
      g_byte_array_unref (tap.bytes);
      return FALSE;
    }
  *header_out = g_byte_array_free_to_bytes (tap.bytes);
  *size_out = size;
  return TRUE;
}
