#include "deliver-maildir.h"

#include "crash.h"

#include "error.h"
#include "spool.h"
#include "utf7.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

gboolean
ms_fsync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return ms_set_errno_error (error, errno, MS_ERROR_FOLDER, "cannot open %s", dir);
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      int saved = errno;
      close (fd);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "fsync %s", dir);
    }
  close (fd);
  return TRUE;
}

gboolean
ms_sync_many (const char *const *paths, guint n, const char *crash_point, GError **error)
{
  g_autofree dev_t *devs = g_new (dev_t, n);
  g_autofree guint *counts = g_new0 (guint, n);

  for (guint i = 0; i < n; i++)
    {
      struct stat st;

      if (stat (paths[i], &st) != 0)
        return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot sync %s", paths[i]);
      devs[i] = st.st_dev;
    }
  /* counts[i]: how many paths share the device of the first path with it */
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j <= i; j++)
      if (devs[j] == devs[i])
        {
          counts[j]++;
          break;
        }
  for (guint i = 0; i < n; i++)
    {
      int fd, r;

      if (counts[i] == 0)
        continue; /* synced with the first path on its filesystem */
      fd = open (paths[i], O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot sync %s", paths[i]);
      r = counts[i] > 1 ? syncfs (fd) : fsync (fd);
      if (r != 0 && !(errno == EINVAL && counts[i] == 1))
        {
          int saved = errno;
          close (fd);
          return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "%s %s",
                                     counts[i] > 1 ? "syncfs of the filesystem of" : "fsync", paths[i]);
        }
      close (fd);
      if (crash_point)
        ms_crash_point (crash_point);
    }
  return TRUE;
}

gboolean
ms_mkdir_synced (const char *dir, GError **error)
{
  g_autofree char *parent = NULL;

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return TRUE;
  parent = g_path_get_dirname (dir);
  if (strcmp (parent, dir) != 0 && !ms_mkdir_synced (parent, error))
    return FALSE;
  if (mkdir (dir, 0700) != 0 && errno != EEXIST)
    return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot create %s", dir);
  return ms_fsync_dir (parent, error);
}

char *
ms_maildir_folder_dir (const char *root, const char *folder, const char *separator,
                       GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) name = g_string_new (".");

  if (g_ascii_strcasecmp (folder, "INBOX") == 0)
    return g_strdup (root);
  if (*folder == '\0' || !g_utf8_validate (folder, -1, NULL))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FOLDER, "folder name \"%s\" is empty or not UTF-8", folder);
      return NULL;
    }
  parts = g_strsplit (folder, separator, -1);
  for (guint i = 0; parts[i]; i++)
    {
      const char *p = parts[i];
      g_autofree char *encoded = NULL;

      if (*p == '\0' || strcmp (p, ".") == 0 || strcmp (p, "..") == 0)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FOLDER,
                       "folder name \"%s\" has an empty, \".\" or \"..\" part", folder);
          return NULL;
        }
      for (const char *c = p; *c; c++)
        if ((guchar) *c < 0x20 || *c == 0x7f || *c == '/' || (*c == '.' && strcmp (separator, ".") != 0))
          {
            g_set_error (error, MS_ERROR, MS_ERROR_FOLDER,
                         "folder name \"%s\" contains '%s', which Maildir++ cannot store%s", folder,
                         *c == '/' ? "/" : *c == '.' ? "." : "a control character",
                         *c == '/' ? " (set folder_separator = / to use it as hierarchy)" : "");
            return NULL;
          }
      encoded = ms_utf7_imap_encode (p);
      if (encoded == NULL)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FOLDER, "folder name \"%s\" cannot be encoded", folder);
          return NULL;
        }
      if (i > 0)
        g_string_append_c (name, '.');
      g_string_append (name, encoded);
    }
  if (name->len > 250)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FOLDER, "folder name \"%s\" is too long", folder);
      return NULL;
    }
  return g_build_filename (root, name->str, NULL);
}

static gboolean
sync_dir_fd (int fd, const char *path, GError **error)
{
  if (fsync (fd) != 0 && errno != EINVAL)
    return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "fsync %s", path);
  return TRUE;
}

/* The refusal of a symbolic link (or other non-directory) at @path,
 * where a Maildir directory must be: delivering through a link would
 * write, and the tmp/ sweep would delete, wherever it points. */
static void
refuse_non_dir (const char *path, const struct stat *st, GError **error)
{
  if (S_ISLNK (st->st_mode))
    g_set_error (error, MS_ERROR, MS_ERROR_FOLDER,
                 "%s is a symbolic link; mailsift follows no links inside the Maildir (only the "
                 "maildir root itself may be one): replace the link with a directory",
                 path);
  else
    g_set_error (error, MS_ERROR, MS_ERROR_FOLDER,
                 "%s is not a directory; move it out of the way so the folder can be used", path);
}

/* Open the directory @name under @at, never through a symbolic link;
 * @path is its full name for messages. Returns the fd, or -1 with
 * @error set (MS_ERROR_FOLDER). */
static int
open_dir_at (int at, const char *name, const char *path, GError **error)
{
  int fd = openat (at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int saved = errno;
  struct stat st;

  if (fd >= 0)
    return fd;
  if ((saved == ELOOP || saved == ENOTDIR) && fstatat (at, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    refuse_non_dir (path, &st, error);
  else
    ms_set_errno_error (error, saved, MS_ERROR_FOLDER, "cannot open folder %s", path);
  return -1;
}

/* Make sure the directory @name exists under @at and is a directory,
 * not a link; TRUE in *created when it was made now. */
static gboolean
ensure_dir_at (int at, const char *name, const char *path, gboolean *created, GError **error)
{
  struct stat st;

  if (fstatat (at, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (S_ISDIR (st.st_mode))
        return TRUE;
      refuse_non_dir (path, &st, error);
      return FALSE;
    }
  if (errno != ENOENT)
    return ms_set_errno_error (error, errno, MS_ERROR_FOLDER, "cannot use folder %s", path);
  if (mkdirat (at, name, 0700) == 0)
    {
      *created = TRUE;
      return TRUE;
    }
  if (errno == EEXIST) /* made by someone else meanwhile: look again */
    return ensure_dir_at (at, name, path, created, error);
  return ms_set_errno_error (error, errno, MS_ERROR_FOLDER, "cannot create folder %s", path);
}

/* Open the Maildir folder @dir, creating it and its tmp/, new/ and cur/
 * when missing, and return its fd (-1 and @error on failure). The
 * configured root may be, or be reached through, a symbolic link (people
 * link ~/Maildir to another disk); nothing below it may be: a subfolder,
 * or a tmp/, new/ or cur/, that is a link is refused (MS_ERROR_FOLDER). */
static int
open_folder (const char *dir, gboolean is_subfolder, GError **error)
{
  static const char *const subs[] = { "tmp", "new", "cur" };
  g_autofree char *parent = g_path_get_dirname (dir);
  gboolean created = FALSE;
  int pfd = -1;
  int fd;

  if (is_subfolder)
    {
      g_autofree char *base = g_path_get_basename (dir);

      pfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (pfd < 0)
        {
          ms_set_errno_error (error, errno, MS_ERROR_FOLDER, "cannot open the Maildir %s", parent);
          return -1;
        }
      if (!ensure_dir_at (pfd, base, dir, &created, error)
          || (fd = open_dir_at (pfd, base, dir, error)) < 0)
        {
          close (pfd);
          return -1;
        }
    }
  else
    {
      fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        {
          if (!ms_mkdir_synced (parent, error))
            return -1;
          if (mkdir (dir, 0700) == 0)
            created = TRUE;
          fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
      if (fd < 0)
        {
          ms_set_errno_error (error, errno, MS_ERROR_FOLDER, "cannot create folder %s", dir);
          return -1;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *sub = g_build_filename (dir, subs[i], NULL);
      if (!ensure_dir_at (fd, subs[i], sub, &created, error))
        {
          close (fd);
          if (pfd >= 0)
            close (pfd);
          return -1;
        }
    }
  if (is_subfolder)
    {
      int marker = openat (fd, "maildirfolder", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (marker >= 0)
        close (marker);
    }
  if (created
      && !(sync_dir_fd (fd, dir, error)
           && (pfd >= 0 ? sync_dir_fd (pfd, parent, error) : ms_fsync_dir (parent, error))))
    {
      close (fd);
      fd = -1;
    }
  if (pfd >= 0)
    close (pfd);
  return fd;
}

gboolean
ms_maildir_ensure (const char *dir, gboolean is_subfolder, GError **error)
{
  int fd = open_folder (dir, is_subfolder, error);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

int
ms_maildir_open_tmp (const char *root, GError **error)
{
  g_autofree char *path = g_build_filename (root, "tmp", NULL);
  int fd = open_folder (root, FALSE, error);
  int tmp;

  if (fd < 0)
    return -1;
  tmp = open_dir_at (fd, "tmp", path, error);
  close (fd);
  return tmp;
}

/* This host's name as unique names carry it ('/' and ':' escaped). */
static char *
unique_host (void)
{
  GString *host = g_string_new (NULL);
  char hostname[256] = "localhost";

  if (gethostname (hostname, sizeof hostname - 1) != 0)
    strcpy (hostname, "localhost");
  hostname[sizeof hostname - 1] = '\0';
  for (const char *c = hostname; *c; c++)
    {
      if (*c == '/')
        g_string_append (host, "\\057");
      else if (*c == ':')
        g_string_append (host, "\\072");
      else
        g_string_append_c (host, *c);
    }
  return g_string_free (host, FALSE);
}

char *
ms_maildir_unique_name (void)
{
  static gint counter; /* a fetch names files from two threads */
  gint64 now = g_get_real_time ();
  g_autofree char *host_name = unique_host ();

  return g_strdup_printf ("%" G_GINT64_FORMAT ".M%06dP%dQ%u.%s", now / G_USEC_PER_SEC,
                          (int) (now % G_USEC_PER_SEC), (int) getpid (),
                          (guint) g_atomic_int_add (&counter, 1) + 1, host_name);
}

char *
ms_maildir_info_flags (const char *const *imap_flags)
{
  static const struct { const char *flag; char letter; } map[] = {
    { "\\Draft", 'D' }, { "\\Flagged", 'F' }, { "\\Answered", 'R' },
    { "\\Seen", 'S' },  { "\\Deleted", 'T' },
  };
  GString *out = g_string_new (NULL);

  /* map[] is in letter order, so the result comes out sorted */
  for (guint m = 0; m < G_N_ELEMENTS (map); m++)
    for (guint i = 0; imap_flags && imap_flags[i]; i++)
      if (g_ascii_strcasecmp (imap_flags[i], map[m].flag) == 0)
        {
          g_string_append_c (out, map[m].letter);
          break;
        }
  return g_string_free (out, FALSE);
}

/* Copy @src into the folder's tmp/ (@folder_fd, @dir for messages) under
 * a new unique name, fsync, and rename it to @file in @sub_fd: for a
 * target where link() cannot work. The name must be new: for INBOX,
 * @src itself lies in that tmp/ under the message's unique name. */
static gboolean
copy_into (const char *src, int folder_fd, const char *dir, int sub_fd, const char *file,
           GError **error)
{
  g_autofree char *name = ms_maildir_unique_name ();
  g_autofree char *tmp_dir = g_build_filename (dir, "tmp", NULL);
  g_autofree char *tmp = g_build_filename (tmp_dir, name, NULL);
  int tmp_fd, in, out;
  char buf[65536];
  ssize_t n;

  tmp_fd = open_dir_at (folder_fd, "tmp", tmp_dir, error);
  if (tmp_fd < 0)
    return FALSE;
  in = open (src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    {
      close (tmp_fd);
      return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot open %s", src);
    }
  out = openat (tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    {
      int saved = errno;
      close (in), close (tmp_fd);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot create %s", tmp);
    }
  ms_cleanup_add (tmp);
  while ((n = read (in, buf, sizeof buf)) > 0)
    {
      for (ssize_t done = 0; done < n;)
        {
          ssize_t w = write (out, buf + done, n - done);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            {
              int saved = errno;
              close (in), close (out), unlinkat (tmp_fd, name, 0), close (tmp_fd);
              ms_cleanup_remove (tmp);
              return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot write %s", tmp);
            }
          done += w;
        }
    }
  if (n < 0 || fsync (out) != 0 || close (out) != 0)
    {
      int saved = errno;
      close (in), unlinkat (tmp_fd, name, 0), close (tmp_fd);
      ms_cleanup_remove (tmp);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot write %s", tmp);
    }
  close (in);
  if (renameat (tmp_fd, name, sub_fd, file) != 0)
    {
      int saved = errno;
      unlinkat (tmp_fd, name, 0), close (tmp_fd);
      ms_cleanup_remove (tmp);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot rename %s into place", tmp);
    }
  close (tmp_fd);
  ms_cleanup_remove (tmp);
  return TRUE;
}

/* link() cannot work here: another file system (EXDEV), one without hard
 * links (FAT gives EPERM, some FUSE ones EOPNOTSUPP or ENOSYS), or a file
 * with too many links already. */
static gboolean
link_unsupported (int e)
{
  return e == EXDEV || e == EPERM || e == EMLINK || e == EOPNOTSUPP || e == ENOSYS;
}

/* @file in @sub_fd is a regular file as big as @spool_path. */
static gboolean
same_size (const char *spool_path, int sub_fd, const char *file)
{
  struct stat sa, sb;

  return stat (spool_path, &sa) == 0 && fstatat (sub_fd, file, &sb, AT_SYMLINK_NOFOLLOW) == 0
         && S_ISREG (sb.st_mode) && sa.st_size == sb.st_size;
}

/* Link (or copy) the spool file into new/ or cur/ of the open folder
 * @folder_fd. */
static gboolean
place_in (const char *spool_path, const char *unique, MsMaildirTarget *t, const char *info,
          int folder_fd, const char *sub, int sub_fd, GHashTable *sync_later, GError **error)
{
  gboolean has_info = *info != '\0';

  for (guint attempt = 0; attempt < 100; attempt++)
    {
      g_autofree char *name = attempt == 0 ? g_strdup (unique) : g_strdup_printf ("%s_%u", unique, attempt);
      g_autofree char *file = has_info ? g_strdup_printf ("%s:2,%s", name, info) : g_strdup (name);
      gboolean placed = FALSE;
      struct stat st;
      int saved;

      if (linkat (AT_FDCWD, spool_path, sub_fd, file, 0) == 0)
        placed = TRUE;
      else if (link_unsupported (errno))
        {
          /* rename() would replace a file of that name; link() refuses */
          if (fstatat (sub_fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0)
            errno = EEXIST;
          else if (copy_into (spool_path, folder_fd, t->dir, sub_fd, file, error))
            placed = TRUE;
          else
            return FALSE;
        }
      if (placed)
        {
          ms_crash_point ("maildir-link");
          if (sync_later)
            g_hash_table_add (sync_later, g_strdup (sub));
          else if (!sync_dir_fd (sub_fd, sub, error))
            {
              unlinkat (sub_fd, file, 0);
              return FALSE;
            }
          else
            ms_crash_point ("folder-fsync");
          t->delivered_path = g_build_filename (sub, file, NULL);
          return TRUE;
        }
      saved = errno;
      if (saved == EEXIST && attempt == 0 && same_size (spool_path, sub_fd, file))
        {
          /* delivered under this name before a crash (the journal reuses
           * names): done already, delivering again would duplicate */
          t->delivered_path = g_build_filename (sub, file, NULL);
          return TRUE;
        }
      if (saved != EEXIST)
        return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot deliver into %s", sub);
    }
  g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "no free file name in %s", sub);
  return FALSE;
}

static gboolean
place_one (const char *spool_path, const char *unique, MsMaildirTarget *t, GHashTable *sync_later,
           GError **error)
{
  g_autofree char *info = ms_maildir_info_flags (t->flags);
  const char *which = *info != '\0' ? "cur" : "new";
  g_autofree char *sub = g_build_filename (t->dir, which, NULL);
  int folder_fd, sub_fd;
  gboolean ok;

  folder_fd = open_folder (t->dir, t->is_subfolder, error);
  if (folder_fd < 0)
    return FALSE;
  sub_fd = open_dir_at (folder_fd, which, sub, error);
  ok = sub_fd >= 0 && place_in (spool_path, unique, t, info, folder_fd, sub, sub_fd, sync_later, error);
  if (sub_fd >= 0)
    close (sub_fd);
  close (folder_fd);
  return ok;
}

gboolean
ms_maildir_deliver (const char *spool_path, const char *unique, MsMaildirTarget *targets,
                    guint n_targets, GHashTable *sync_later, GError **error)
{
  for (guint i = 0; i < n_targets; i++)
    {
      if (place_one (spool_path, unique, &targets[i], sync_later, error))
        continue;
      /* all or nothing, so a retry by the MTA does not deliver twice */
      for (guint k = 0; k < i; k++)
        {
          unlink (targets[k].delivered_path);
          g_clear_pointer (&targets[k].delivered_path, g_free);
        }
      return FALSE;
    }
  return TRUE;
}

/* A name the sweep may remove: Maildir unique names, ours and other
 * deliverers', begin with the time in seconds and a dot. */
static gboolean
looks_delivered_name (const char *name)
{
  const char *c = name;

  while (g_ascii_isdigit (*c))
    c++;
  return c > name && *c == '.';
}

/* Whether @name is a unique name that a mailsift on this host (@host)
 * made in a process that no longer exists: "SECONDS.MUSECPPIDQN.HOST",
 * or that with ".editedN" (ms_spool_edited_copy). Nobody writes such a
 * file any more: a crash left it. (A fetch that reuses a journalled name
 * of a crashed run writes under that pid; should a sweep elsewhere take
 * its file before the link into new/, the link fails and the batch is
 * fetched again: nothing is lost.) */
static gboolean
left_by_dead_process (const char *name, const char *host)
{
  const char *c = name;
  char *end;
  guint64 pid;
  gsize hlen = strlen (host);

  while (g_ascii_isdigit (*c))
    c++;
  if (c == name || c[0] != '.' || c[1] != 'M')
    return FALSE;
  for (c += 2; g_ascii_isdigit (*c); c++)
    ;
  if (*c != 'P' || !g_ascii_isdigit (c[1]))
    return FALSE;
  pid = g_ascii_strtoull (c + 1, &end, 10);
  if (*end != 'Q' || !g_ascii_isdigit (end[1]))
    return FALSE;
  for (c = end + 1; g_ascii_isdigit (*c); c++)
    ;
  if (*c != '.' || strncmp (c + 1, host, hlen) != 0)
    return FALSE;
  c += 1 + hlen;
  if (*c == '.' && g_str_has_prefix (c, ".edited"))
    {
      for (c += strlen (".edited"); g_ascii_isdigit (*c); c++)
        ;
    }
  if (*c != '\0' || pid == 0 || pid > G_MAXINT || (pid_t) pid == getpid ())
    return FALSE;
  /* EPERM: a process of another user has that pid now; leave it */
  return kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

guint
ms_maildir_sweep_tmp (const char *dir)
{
  time_t limit = time (NULL) - 36 * 3600;
  g_autofree char *host = unique_host ();
  struct dirent *e;
  guint removed = 0;
  int root, tmp;
  DIR *d;

  /* the root may be a link; tmp/ must not be, or the sweep would delete
   * old files wherever it points (delivery refuses such a Maildir) */
  root = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return 0;
  tmp = openat (root, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  close (root);
  if (tmp < 0)
    return 0;
  d = fdopendir (tmp);
  if (d == NULL)
    {
      close (tmp);
      return 0;
    }
  while ((e = readdir (d)) != NULL)
    {
      struct stat st;

      /* only what a deliverer could have left: a regular file of ours,
       * 36 hours old, or at once when a crashed mailsift left it */
      if (looks_delivered_name (e->d_name)
          && fstatat (tmp, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode)
          && st.st_uid == geteuid ()
          && (st.st_mtime < limit || left_by_dead_process (e->d_name, host))
          && unlinkat (tmp, e->d_name, 0) == 0)
        removed++;
    }
  closedir (d);
  return removed;
}

gboolean
ms_maildir_add_message (const char *root, GBytes *content, GError **error)
{
  g_autoptr (MsSpoolWriter) w = ms_spool_writer_new (root, NULL, error);
  g_autoptr (MsSpool) spool = NULL;
  MsMaildirTarget inbox = { root, FALSE, NULL, NULL };
  gsize len;
  const char *data = g_bytes_get_data (content, &len);

  if (w == NULL || !ms_spool_writer_write (w, data, len, error)
      || (spool = ms_spool_writer_finish (g_steal_pointer (&w), error)) == NULL
      || !ms_maildir_deliver (spool->path, spool->unique, &inbox, 1, NULL, error))
    return FALSE;
  g_free (inbox.delivered_path);
  return TRUE;
}
