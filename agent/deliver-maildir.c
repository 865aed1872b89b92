#include "deliver-maildir.h"

#include "error.h"
#include "spool.h"
#include "utf7.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* mkdir that tolerates an existing directory; TRUE in *created when new. */
static gboolean
make_dir (const char *path, gboolean *created, GError **error)
{
  if (mkdir (path, 0700) == 0)
    {
      *created = TRUE;
      return TRUE;
    }
  if (errno == EEXIST && g_file_test (path, G_FILE_TEST_IS_DIR))
    return TRUE;
  return ms_set_errno_error (error, errno, MS_ERROR_FOLDER, "cannot create folder %s", path);
}

gboolean
ms_maildir_ensure (const char *dir, gboolean is_subfolder, GError **error)
{
  static const char *const subs[] = { "tmp", "new", "cur" };
  gboolean created = FALSE;
  g_autofree char *parent = g_path_get_dirname (dir);

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *cur = g_build_filename (dir, "cur", NULL);
      if (g_file_test (cur, G_FILE_TEST_IS_DIR))
        return TRUE; /* the common case: one stat */
    }
  else if (!is_subfolder && g_mkdir_with_parents (parent, 0700) != 0)
    return ms_set_errno_error (error, errno, MS_ERROR_FOLDER, "cannot create %s", parent);

  if (!make_dir (dir, &created, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *sub = g_build_filename (dir, subs[i], NULL);
      gboolean sub_created = FALSE;
      if (!make_dir (sub, &sub_created, error))
        return FALSE;
      created |= sub_created;
    }
  if (is_subfolder)
    {
      g_autofree char *marker = g_build_filename (dir, "maildirfolder", NULL);
      int fd = open (marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0)
        close (fd);
    }
  if (created)
    return ms_fsync_dir (dir, error) && ms_fsync_dir (parent, error);
  return TRUE;
}

char *
ms_maildir_unique_name (void)
{
  static guint counter;
  gint64 now = g_get_real_time ();
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
  g_autofree char *host_name = g_string_free (host, FALSE);

  return g_strdup_printf ("%" G_GINT64_FORMAT ".M%06dP%dQ%u.%s", now / G_USEC_PER_SEC,
                          (int) (now % G_USEC_PER_SEC), (int) getpid (), ++counter, host_name);
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

/* Copy @src into @dir/tmp, fsync, and rename to @dest: for a target on
 * another file system, where link() cannot work. */
static gboolean
copy_into (const char *src, const char *dir, const char *unique, const char *dest, GError **error)
{
  g_autofree char *tmp = g_build_filename (dir, "tmp", unique, NULL);
  int in = open (src, O_RDONLY | O_CLOEXEC);
  int out;
  char buf[65536];
  ssize_t n;

  if (in < 0)
    return ms_set_errno_error (error, errno, MS_ERROR_TEMPORARY, "cannot open %s", src);
  out = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0)
    {
      int saved = errno;
      close (in);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot create %s", tmp);
    }
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
              close (in), close (out), unlink (tmp);
              return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot write %s", tmp);
            }
          done += w;
        }
    }
  if (n < 0 || fsync (out) != 0 || close (out) != 0)
    {
      int saved = errno;
      close (in), unlink (tmp);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot write %s", tmp);
    }
  close (in);
  if (rename (tmp, dest) != 0)
    {
      int saved = errno;
      unlink (tmp);
      return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot rename into %s", dest);
    }
  return TRUE;
}

static gboolean
same_size (const char *a, const char *b)
{
  struct stat sa, sb;

  return stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_size == sb.st_size;
}

static gboolean
place_one (const char *spool_path, const char *unique, MsMaildirTarget *t, GHashTable *sync_later,
           GError **error)
{
  g_autofree char *info = ms_maildir_info_flags (t->flags);
  gboolean has_info = *info != '\0';
  g_autofree char *sub = g_build_filename (t->dir, has_info ? "cur" : "new", NULL);

  for (guint attempt = 0; attempt < 100; attempt++)
    {
      g_autofree char *name = attempt == 0 ? g_strdup (unique) : g_strdup_printf ("%s_%u", unique, attempt);
      g_autofree char *file = has_info ? g_strdup_printf ("%s:2,%s", name, info) : g_strdup (name);
      g_autofree char *dest = g_build_filename (sub, file, NULL);
      int saved;

      if (link (spool_path, dest) == 0
          || ((errno == EXDEV || errno == EPERM || errno == EMLINK)
              && copy_into (spool_path, t->dir, name, dest, error)))
        {
          if (sync_later)
            g_hash_table_add (sync_later, g_strdup (sub));
          else if (!ms_fsync_dir (sub, error))
            {
              unlink (dest);
              return FALSE;
            }
          t->delivered_path = g_steal_pointer (&dest);
          return TRUE;
        }
      if (error && *error)
        return FALSE;
      saved = errno;
      if (saved == EEXIST && attempt == 0 && same_size (spool_path, dest))
        {
          /* delivered under this name before a crash (the journal reuses
           * names): done already, delivering again would duplicate */
          t->delivered_path = g_steal_pointer (&dest);
          return TRUE;
        }
      if (saved != EEXIST)
        return ms_set_errno_error (error, saved, MS_ERROR_TEMPORARY, "cannot deliver into %s", sub);
    }
  g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "no free file name in %s", sub);
  return FALSE;
}

gboolean
ms_maildir_deliver (const char *spool_path, const char *unique, MsMaildirTarget *targets,
                    guint n_targets, GHashTable *sync_later, GError **error)
{
  for (guint i = 0; i < n_targets; i++)
    {
      if (ms_maildir_ensure (targets[i].dir, targets[i].is_subfolder, error)
          && place_one (spool_path, unique, &targets[i], sync_later, error))
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

guint
ms_maildir_sweep_tmp (const char *dir)
{
  g_autofree char *tmp = g_build_filename (dir, "tmp", NULL);
  g_autoptr (GDir) d = g_dir_open (tmp, 0, NULL);
  time_t limit = time (NULL) - 36 * 3600;
  const char *name;
  guint removed = 0;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (tmp, name, NULL);
      struct stat st;
      if (lstat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_mtime < limit && unlink (path) == 0)
        removed++;
    }
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
