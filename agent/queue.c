#include "queue.h"

#include "deliver-maildir.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static gboolean
write_file_durably (const char *path, GBytes *content, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (content, &len);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd < 0)
    return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot create %s", path);
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd), unlink (path);
          return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot write %s", path);
        }
      data += n, len -= n;
    }
  if (fsync (fd) != 0 || close (fd) != 0)
    {
      int saved = errno;
      unlink (path);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot write %s", path);
    }
  return TRUE;
}

gboolean
ms_queue_add (MsState *state, const char *reason, const char *envelope_from,
              const char *const *recipients, const char *origin, const char *source_path,
              GBytes *content, char **id_out, char **file_out, GError **error)
{
  g_autofree char *dir = g_build_filename (ms_state_get_dir (state), "queue", NULL);
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT "-%08x%08x", g_get_real_time () / G_USEC_PER_SEC,
                                         g_random_int (), g_random_int ());
  g_autofree char *file = g_build_filename (dir, id, NULL);
  MsQueueEntry entry = { 0 };

  g_return_val_if_fail ((source_path == NULL) != (content == NULL), FALSE);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot create queue folder %s", dir);
  if (source_path != NULL)
    {
      if (link (source_path, file) != 0)
        {
          g_autoptr (GMappedFile) map = NULL;
          g_autoptr (GBytes) bytes = NULL;
          if (errno != EXDEV && errno != EPERM && errno != EMLINK)
            return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot queue %s", file);
          map = g_mapped_file_new (source_path, FALSE, error);
          if (map == NULL)
            return FALSE;
          bytes = g_mapped_file_get_bytes (map);
          if (!write_file_durably (file, bytes, error))
            return FALSE;
        }
    }
  else if (!write_file_durably (file, content, error))
    return FALSE;
  if (!ms_fsync_dir (dir, error))
    {
      unlink (file);
      return FALSE;
    }

  entry.id = id;
  entry.created = g_get_real_time () / G_USEC_PER_SEC;
  entry.reason = (char *) reason;
  entry.envelope_from = (char *) (envelope_from ? envelope_from : "");
  entry.recipients = (char **) recipients;
  entry.origin = (char *) origin;
  entry.file = file;
  entry.next_try = entry.created;
  if (!ms_state_queue_insert (state, &entry, error))
    {
      unlink (file);
      return FALSE;
    }
  if (id_out)
    *id_out = g_steal_pointer (&id);
  if (file_out)
    *file_out = g_steal_pointer (&file);
  return TRUE;
}
