#include "spool.h"

#include "crash.h"

#include "deliver-maildir.h"
#include "error.h"
#include "header.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- cleanup */

/* Fixed slots, so the signal handler needs no allocation or locking. */
#define CLEANUP_SLOTS 256 /* a fetch batch holds up to MS_FETCH_BATCH_MAX files */
#define CLEANUP_PATH_MAX 4096
static char cleanup_paths[CLEANUP_SLOTS][CLEANUP_PATH_MAX];
static volatile sig_atomic_t cleanup_used[CLEANUP_SLOTS];

/* A fetch writes spool files in one thread while it delivers in
 * another (fetch.c): the slots are taken and given back under a lock.
 * The signal handler only reads them. */
static GMutex cleanup_lock;

void
ms_cleanup_add (const char *path)
{
  g_mutex_lock (&cleanup_lock);
  for (int i = 0; i < CLEANUP_SLOTS; i++)
    if (!cleanup_used[i] && strlen (path) < CLEANUP_PATH_MAX)
      {
        strcpy (cleanup_paths[i], path);
        cleanup_used[i] = 1;
        break;
      }
  g_mutex_unlock (&cleanup_lock);
}

void
ms_cleanup_remove (const char *path)
{
  g_mutex_lock (&cleanup_lock);
  for (int i = 0; i < CLEANUP_SLOTS; i++)
    if (cleanup_used[i] && strcmp (cleanup_paths[i], path) == 0)
      cleanup_used[i] = 0;
  g_mutex_unlock (&cleanup_lock);
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

/* What the writer gathers before one write(2): a POP3 message arrives a
 * line at a time. */
#define WRITE_BUFFER 65536

struct _MsSpoolWriter {
  int fd;          /* -1: count and tap only (ms_message_scan) */
  char *path;
  char *unique;
  HeaderTap tap;
  guint64 size;
  gboolean pending_cr;
  char *out;       /* converted bytes not written yet */
  gsize out_len;
  gsize out_size;
};

static MsSpoolWriter *
writer_new (int fd)
{
  MsSpoolWriter *w = g_new0 (MsSpoolWriter, 1);

  w->fd = fd;
  w->tap.bytes = g_byte_array_new ();
  w->tap.last = '\n';
  return w;
}

MsSpoolWriter *
ms_spool_writer_new (const char *maildir_root, const char *unique, GError **error)
{
  g_autofree char *path = NULL;
  MsSpoolWriter *w;
  int tmp, fd;

  /* tmp/ opened without following a link, so nothing is written (or,
   * for a journalled name, removed) wherever a link would point */
  tmp = ms_maildir_open_tmp (maildir_root, error);
  if (tmp < 0)
    return NULL;
  {
    g_autofree char *name = unique ? g_strdup (unique) : ms_maildir_unique_name ();
    path = g_build_filename (maildir_root, "tmp", name, NULL);
    ms_cleanup_add (path);
    /* a journalled unique name may have a stale tmp file from a crash */
    if (unique)
      unlinkat (tmp, name, 0);
    fd = openat (tmp, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    close (tmp);
    if (fd < 0)
      {
        int saved = errno;
        ms_cleanup_remove (path);
        ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot create a file in %s/tmp",
                            maildir_root);
        return NULL;
      }
    w = writer_new (fd);
    w->unique = g_steal_pointer (&name);
  }
  w->path = g_steal_pointer (&path);
  return w;
}

MsSpoolWriter *
ms_spool_writer_new_scan (void)
{
  return writer_new (-1);
}

const char *
ms_spool_writer_get_unique (MsSpoolWriter *w)
{
  return w->unique;
}

static gboolean
writer_flush (MsSpoolWriter *w, GError **error)
{
  gboolean ok = w->fd < 0 || write_all (w->fd, w->out, w->out_len, w->path, error);

  w->out_len = 0;
  return ok;
}

gboolean
ms_spool_writer_write (MsSpoolWriter *w, const char *buf, gsize n, GError **error)
{
  gsize start;

  if (w->out_len + n + 1 > w->out_size)
    {
      if (w->out_len > 0 && !writer_flush (w, error))
        return FALSE;
      if (n + 1 > w->out_size)
        {
          w->out_size = MAX (n + 1, WRITE_BUFFER);
          w->out = g_realloc (w->out, w->out_size);
        }
    }
  start = w->out_len;
  /* CRLF -> LF; a CR at the end of a chunk waits to see whether LF
   * follows. The text between CRs is copied as it is. */
  for (gsize i = 0; i < n;)
    {
      const char *cr;
      gsize run;

      if (w->pending_cr)
        {
          w->pending_cr = FALSE;
          if (buf[i] != '\n')
            w->out[w->out_len++] = '\r';
        }
      cr = memchr (buf + i, '\r', n - i);
      run = (cr ? (gsize) (cr - buf) : n) - i;
      memcpy (w->out + w->out_len, buf + i, run);
      w->out_len += run;
      i += run;
      if (cr)
        {
          w->pending_cr = TRUE;
          i++;
        }
    }
  header_tap (&w->tap, w->out + start, w->out_len - start);
  w->size += w->out_len - start;
  /* a scan keeps nothing */
  return w->fd >= 0 && w->out_len < WRITE_BUFFER ? TRUE : writer_flush (w, error);
}

/* Flush a pending CR and the buffer. */
static gboolean
writer_end (MsSpoolWriter *w, GError **error)
{
  if (w->pending_cr)
    {
      w->pending_cr = FALSE;
      if (w->out_len + 1 > w->out_size)
        {
          w->out_size = w->out_len + WRITE_BUFFER;
          w->out = g_realloc (w->out, w->out_size);
        }
      header_tap (&w->tap, "\r", 1);
      w->out[w->out_len++] = '\r';
      w->size++;
    }
  return writer_flush (w, error);
}

void
ms_spool_writer_free (MsSpoolWriter *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0)
    close (w->fd);
  if (w->path)
    {
      unlink (w->path);
      ms_cleanup_remove (w->path);
    }
  g_free (w->path);
  g_free (w->unique);
  g_free (w->out);
  g_byte_array_unref (w->tap.bytes);
  g_free (w);
}

MsSpool *
ms_spool_writer_close (MsSpoolWriter *w, GError **error)
{
  MsSpool *spool;
  int fd = w->fd;

  if (!writer_end (w, error))
    {
      ms_spool_writer_free (w);
      return NULL;
    }
  w->fd = -1;
  /* start writing it out now, while the next message arrives: the
   * fsync later only waits for what is still in flight */
  if (fd >= 0)
    sync_file_range (fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  if (fd >= 0 && close (fd) != 0)
    {
      ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot write %s", w->path);
      ms_spool_writer_free (w);
      return NULL;
    }
  if (fd >= 0)
    ms_crash_point ("spool-write");
  spool = g_new0 (MsSpool, 1);
  spool->path = g_steal_pointer (&w->path);
  spool->unique = g_steal_pointer (&w->unique);
  spool->size = w->size;
  spool->header = g_byte_array_free_to_bytes (g_steal_pointer (&w->tap.bytes));
  w->tap.bytes = g_byte_array_new ();
  ms_spool_writer_free (w);
  return spool;
}

gboolean
ms_spool_sync (MsSpool *spool, GError **error)
{
  int fd;

  if (spool->path == NULL)
    return TRUE;
  fd = open (spool->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync (fd) != 0)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot write %s", spool->path);
    }
  close (fd);
  ms_crash_point ("spool-fsync");
  return TRUE;
}

MsSpool *
ms_spool_writer_finish (MsSpoolWriter *w, GError **error)
{
  MsSpool *spool = ms_spool_writer_close (w, error);

  if (spool && !ms_spool_sync (spool, error))
    g_clear_pointer (&spool, ms_spool_free);
  return spool;
}

/* Append everything from @in's position on to @out. */
static gboolean
copy_rest (int in, int out, const char *in_path, const char *out_path, GError **error)
{
  g_autofree char *buf = g_malloc (65536);

  for (;;)
    {
      ssize_t n = read (in, buf, 65536);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot read %s", in_path);
      if (n == 0)
        return TRUE;
      if (!write_all (out, buf, (gsize) n, out_path, error))
        return FALSE;
    }
}

MsSpool *
ms_spool_edited_copy (const MsSpool *spool, gsize header_size, GBytes *header, const char *suffix,
                      GError **error)
{
  g_autofree char *dir = g_path_get_dirname (spool->path);
  g_autofree char *name = g_strdup_printf ("%s.%s", spool->unique, suffix);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize hlen;
  const char *hdata = g_bytes_get_data (header, &hlen);
  MsSpool *copy;
  gboolean ok;
  int in, out;

  g_return_val_if_fail (header_size <= spool->size, NULL);
  in = open (spool->path, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    {
      ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot read %s", spool->path);
      return NULL;
    }
  ms_cleanup_add (path);
  unlink (path); /* left by a crash, under a journalled unique name */
  out = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0)
    {
      ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot create %s", path);
      ms_cleanup_remove (path);
      close (in);
      return NULL;
    }
  ok = write_all (out, hdata, hlen, path, error)
       && (lseek (in, (off_t) header_size, SEEK_SET) >= 0
           || ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot read %s", spool->path))
       && copy_rest (in, out, spool->path, path, error);
  if (ok && fsync (out) != 0)
    ok = ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot write %s", path);
  if (close (out) != 0 && ok)
    ok = ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot write %s", path);
  close (in);
  if (!ok)
    {
      unlink (path);
      ms_cleanup_remove (path);
      return NULL;
    }
  copy = g_new0 (MsSpool, 1);
  copy->path = g_steal_pointer (&path);
  copy->unique = g_strdup (spool->unique);
  copy->size = hlen + (spool->size - header_size);
  copy->header = g_bytes_ref (header);
  copy->has_received = spool->has_received;
  copy->received = spool->received;
  return copy;
}

gboolean
ms_spool_rename (MsSpool *spool, const char *unique, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (spool->path);
  char *path = g_build_filename (dir, unique, NULL);

  if (rename (spool->path, path) != 0)
    {
      int saved = errno;
      g_free (path);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot rename %s", spool->path);
    }
  ms_cleanup_add (path);
  ms_cleanup_remove (spool->path);
  g_free (spool->path);
  spool->path = path;
  g_free (spool->unique);
  spool->unique = g_strdup (unique);
  return TRUE;
}

/* Feed everything readable from @in into @w. */
static gboolean
pump (int in, MsSpoolWriter *w, GError **error)
{
  g_autofree char *buf = g_malloc (65536);

  for (;;)
    {
      ssize_t n = read (in, buf, 65536);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot read the message");
      if (n == 0)
        return TRUE;
      if (!ms_spool_writer_write (w, buf, n, error))
        return FALSE;
    }
}

MsSpool *
ms_spool_from_fd (int in, const char *maildir_root, GError **error)
{
  MsSpoolWriter *w = ms_spool_writer_new (maildir_root, NULL, error);

  if (w == NULL)
    return NULL;
  if (!pump (in, w, error))
    {
      ms_spool_writer_free (w);
      return NULL;
    }
  return ms_spool_writer_finish (w, error);
}

gboolean
ms_message_scan (int fd, GBytes **header_out, guint64 *size_out, GError **error)
{
  MsSpoolWriter *w = writer_new (-1);
  gboolean ok = pump (fd, w, error) && writer_end (w, error);

  if (ok)
    {
      *header_out = g_byte_array_free_to_bytes (g_steal_pointer (&w->tap.bytes));
      w->tap.bytes = g_byte_array_new ();
      *size_out = w->size;
    }
  ms_spool_writer_free (w);
  return ok;
}
