/* Unit tests: Maildir folder names, unique names, flags, delivery. */
#include "deliver-maildir.h"
#include "error.h"
#include "spool.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
make_root (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("ms-maildir-XXXXXX", NULL);
  return g_build_filename (tmp, "Maildir", NULL);
}

static void
test_folder_names (void)
{
  struct { const char *folder, *sep, *want; } ok[] = {
    { "INBOX", ".", "/r" },        { "inbox", ".", "/r" },
    { "Lists.dev", ".", "/r/.Lists.dev" }, { "Lists/dev", "/", "/r/.Lists.dev" },
    { "Entwürfe", ".", "/r/.Entw&APw-rfe" }, { "A&B", ".", "/r/.A&-B" },
  };
  const char *bad[][2] = {
    { "", "." },        { "..", "." },       { "a..b", "." },   { ".hidden", "." },
    { "a/b", "." },     { "x.y", "/" },      { "tab\there", "." }, { "../etc", "/" },
    { "trailing.", "." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = ms_maildir_folder_dir ("/r", ok[i].folder, ok[i].sep, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (dir, ==, ok[i].want);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = ms_maildir_folder_dir ("/r", bad[i][0], bad[i][1], &error);
      g_assert_null (dir);
      g_assert_error (error, MS_ERROR, MS_ERROR_FOLDER);
    }
}

static void
test_unique_names (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (int i = 0; i < 1000; i++)
    {
      char *name = ms_maildir_unique_name ();
      g_assert_null (strchr (name, '/'));
      g_assert_null (strchr (name, ':'));
      g_assert_true (g_regex_match_simple ("^[0-9]+\\.M[0-9]{6}P[0-9]+Q[0-9]+\\.", name, 0, 0));
      g_assert_false (g_hash_table_contains (seen, name));
      g_hash_table_add (seen, name);
    }
}

static void
test_info_flags (void)
{
  const char *all[] = { "\\Seen", "\\Deleted", "\\Answered", "\\Flagged", "\\Draft", "$Junk", NULL };
  const char *one[] = { "\\seen", NULL };
  const char *none[] = { "$Label1", NULL };
  g_autofree char *a = ms_maildir_info_flags (all);
  g_autofree char *b = ms_maildir_info_flags (one);
  g_autofree char *c = ms_maildir_info_flags (none);
  g_autofree char *d = ms_maildir_info_flags (NULL);

  g_assert_cmpstr (a, ==, "DFRST");
  g_assert_cmpstr (b, ==, "S");
  g_assert_cmpstr (c, ==, "");
  g_assert_cmpstr (d, ==, "");
}

static MsSpool *
spool_text (const char *root, const char *text)
{
  g_autoptr (GError) error = NULL;
  int fds[2];
  MsSpool *spool;

  g_assert_no_errno (pipe (fds));
  g_assert_cmpint (write (fds[1], text, strlen (text)), ==, (ssize_t) strlen (text));
  close (fds[1]);
  spool = ms_spool_from_fd (fds[0], root, &error);
  close (fds[0]);
  g_assert_no_error (error);
  return spool;
}

static void
test_spool_and_deliver (void)
{
  g_autofree char *root = make_root ();
  g_autoptr (MsSpool) spool = spool_text (root, "Subject: hi\r\nX: y\r\n\r\nbody\r\nlone\rcr\r\n");
  g_autofree char *sub = g_build_filename (root, ".Lists.dev", NULL);
  const char *seen[] = { "\\Seen", NULL };
  MsMaildirTarget targets[] = { { root, FALSE, NULL, NULL }, { sub, TRUE, seen, NULL } };
  g_autoptr (GError) error = NULL;
  g_autofree char *content = NULL;
  g_autofree char *marker = g_build_filename (sub, "maildirfolder", NULL);
  struct stat a, b;

  g_assert_cmpuint (spool->size, ==, strlen ("Subject: hi\nX: y\n\nbody\nlone\rcr\n"));
  g_assert_cmpmem (g_bytes_get_data (spool->header, NULL), g_bytes_get_size (spool->header),
                   "Subject: hi\nX: y\n\n", strlen ("Subject: hi\nX: y\n\n"));
  g_assert_true (ms_maildir_deliver (spool->path, spool->unique, targets, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (targets[0].delivered_path, spool->unique));
  g_assert_true (strstr (targets[0].delivered_path, "/new/") != NULL);
  g_assert_true (g_str_has_suffix (targets[1].delivered_path, ":2,S"));
  g_assert_true (strstr (targets[1].delivered_path, "/.Lists.dev/cur/") != NULL);
  g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (targets[1].delivered_path, &content, NULL, NULL));
  g_assert_cmpstr (content, ==, "Subject: hi\nX: y\n\nbody\nlone\rcr\n");
  /* the copies are one file: hard links */
  g_assert_no_errno (stat (targets[0].delivered_path, &a));
  g_assert_no_errno (stat (targets[1].delivered_path, &b));
  g_assert_cmpuint (a.st_ino, ==, b.st_ino);
  g_assert_cmpuint ((a.st_mode & 0777), ==, 0600);
  g_free (targets[0].delivered_path);
  g_free (targets[1].delivered_path);
}

static void
test_deliver_all_or_nothing (void)
{
  g_autofree char *root = make_root ();
  g_autoptr (MsSpool) spool = spool_text (root, "Subject: x\n\nbody\n");
  g_autofree char *blocked = g_build_filename (root, ".Blocked", NULL);
  g_autofree char *new_dir = g_build_filename (root, "new", NULL);
  MsMaildirTarget targets[] = { { root, FALSE, NULL, NULL }, { blocked, TRUE, NULL, NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = NULL;

  /* a plain file where the folder should be: creating it fails */
  g_assert_true (g_file_set_contents (blocked, "", 0, NULL));
  g_assert_false (ms_maildir_deliver (spool->path, spool->unique, targets, 2, NULL, &error));
  g_assert_nonnull (error);
  g_assert_null (targets[0].delivered_path);
  d = g_dir_open (new_dir, 0, NULL);
  g_assert_null (g_dir_read_name (d)); /* the first copy was taken back */
}

static void
test_spool_big_flat (void)
{
  /* 8 MiB through a pipe in 64 KiB chunks, CRLF split across chunks */
  g_autofree char *root = make_root ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsSpool) spool = NULL;
  int fds[2];
  pid_t pid;

  g_assert_no_errno (pipe (fds));
  pid = fork ();
  if (pid == 0)
    {
      char chunk[65537];
      close (fds[0]);
      memset (chunk, 'a', sizeof chunk);
      chunk[65535] = '\r';
      chunk[65536] = '\n';
      if (write (fds[1], "Subject: big\r\n\r\n", 16) != 16)
        _exit (1);
      for (int i = 0; i < 128; i++)
        if (write (fds[1], chunk, sizeof chunk) != (ssize_t) sizeof chunk)
          _exit (1);
      _exit (0);
    }
  close (fds[1]);
  spool = ms_spool_from_fd (fds[0], root, &error);
  close (fds[0]);
  g_assert_no_error (error);
  g_assert_cmpuint (spool->size, ==, 14 + 128 * 65536);
  g_assert_cmpuint (g_bytes_get_size (spool->header), ==, 14);
}

static void
make_old (const char *path)
{
  struct timespec times[2] = { { time (NULL) - 40 * 3600, 0 }, { time (NULL) - 40 * 3600, 0 } };

  g_assert_no_errno (utimensat (AT_FDCWD, path, times, 0));
}

static void
test_sweep_tmp (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *old = NULL, *fresh = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (ms_maildir_ensure (root, FALSE, &error));
  old = g_build_filename (root, "tmp", "1700000000.M1P2Q3.host", NULL);
  fresh = g_build_filename (root, "tmp", "1700000001.M1P2Q4.host", NULL);
  g_assert_true (g_file_set_contents (old, "x", 1, NULL));
  g_assert_true (g_file_set_contents (fresh, "x", 1, NULL));
  make_old (old);
  g_assert_cmpuint (ms_maildir_sweep_tmp (root), ==, 1);
  g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (fresh, G_FILE_TEST_EXISTS));
}

/* @unique (ours) with the pid @pid and the host part replaced by @host
 * (NULL: kept). */
static char *
with_pid (const char *unique, pid_t pid, const char *host)
{
  g_autofree char *ours = g_strdup_printf ("P%dQ", (int) getpid ());
  const char *at = strstr (unique, ours);
  const char *q = strchr (at + 1, 'Q');
  const char *dot = strchr (q, '.');
  g_autofree char *head = g_strndup (unique, at - unique);
  g_autofree char *mid = g_strndup (q, dot - q);

  return g_strdup_printf ("%sP%d%s.%s", head, (int) pid, mid, host ? host : dot + 1);
}

/* Files that a crashed mailsift of this host left in tmp/ go at once:
 * the process in their name is gone. Not those of a live process, of
 * this process, or of another host. */
static void
test_sweep_tmp_dead_process (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *unique = ms_maildir_unique_name ();
  g_autoptr (GError) error = NULL;
  pid_t dead = fork ();
  const char *names[6];
  gboolean gone[6] = { TRUE, TRUE, FALSE, FALSE, FALSE, FALSE };

  if (dead == 0)
    _exit (0);
  g_assert_cmpint (waitpid (dead, NULL, 0), ==, dead);
  g_assert_true (ms_maildir_ensure (root, FALSE, &error));
  names[0] = with_pid (unique, dead, NULL);
  names[1] = g_strconcat (names[0], ".edited1", NULL);
  names[2] = g_strdup (unique);
  names[3] = with_pid (unique, getppid (), NULL);
  names[4] = with_pid (unique, dead, "elsewhere.example");
  names[5] = g_strconcat (names[0], ".other", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (root, "tmp", names[i], NULL);
      g_assert_true (g_file_set_contents (path, "x", 1, NULL));
    }
  g_assert_cmpuint (ms_maildir_sweep_tmp (root), ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (root, "tmp", names[i], NULL);
      if (gone[i] == g_file_test (path, G_FILE_TEST_EXISTS))
        g_error ("%s: expected %s", names[i], gone[i] ? "removed" : "kept");
      g_free ((char *) names[i]);
    }
}

/* A file, 40 hours old, at @dir/@name. Returns its path. */
static char *
old_file (const char *dir, const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, "keep me", -1, NULL));
  make_old (path);
  return path;
}

/* The sweep never follows a link: not a tmp/ that is one (it deleted
 * id_rsa and thesis.tex where such a link pointed), not a link inside
 * tmp/; and it removes only old regular files named as a deliverer
 * names them. */
static void
test_sweep_tmp_no_follow (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *top = g_path_get_dirname (root);
  g_autofree char *home = g_build_filename (top, "home", NULL);
  g_autofree char *tmp = g_build_filename (root, "tmp", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *id_rsa = NULL, *thesis = NULL, *named = NULL, *notes = NULL, *linked = NULL;
  g_autofree char *in_link = NULL, *old_dir = NULL, *ours = NULL;

  g_assert_no_errno (g_mkdir_with_parents (home, 0700));
  id_rsa = old_file (home, "id_rsa");
  thesis = old_file (home, "thesis.tex");
  named = old_file (home, "1700000000.M1P2Q3.host");

  /* tmp/ is a link to the home directory */
  g_assert_true (ms_maildir_ensure (root, FALSE, &error));
  g_assert_no_errno (rmdir (tmp));
  g_assert_no_errno (symlink (home, tmp));
  g_assert_cmpuint (ms_maildir_sweep_tmp (root), ==, 0);
  g_assert_true (g_file_test (id_rsa, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (thesis, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (named, G_FILE_TEST_EXISTS));

  /* a real tmp/ with a link, a folder and foreign names in it */
  g_assert_no_errno (unlink (tmp));
  g_assert_no_errno (mkdir (tmp, 0700));
  linked = g_build_filename (tmp, "1700000000.M9P9Q9.host", NULL);
  g_assert_no_errno (symlink (named, linked));
  {
    struct timespec times[2] = { { time (NULL) - 40 * 3600, 0 }, { time (NULL) - 40 * 3600, 0 } };
    g_assert_no_errno (utimensat (AT_FDCWD, linked, times, AT_SYMLINK_NOFOLLOW));
  }
  old_dir = g_build_filename (tmp, "1700000000.M8P8Q8.host", NULL);
  g_assert_no_errno (mkdir (old_dir, 0700));
  in_link = old_file (old_dir, "1700000000.M7P7Q7.host");
  make_old (old_dir);
  notes = old_file (tmp, "notes.txt");
  ours = old_file (tmp, "1700000000.M1P2Q5.host");
  g_assert_cmpuint (ms_maildir_sweep_tmp (root), ==, 1);
  g_assert_false (g_file_test (ours, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (linked, G_FILE_TEST_IS_SYMLINK));
  g_assert_true (g_file_test (named, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (in_link, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (notes, G_FILE_TEST_EXISTS));
}

/* Replace the directory @dir by a symbolic link to a new, empty @target. */
static void
link_instead (const char *dir, const char *target)
{
  g_assert_no_errno (g_mkdir_with_parents (target, 0700));
  g_assert_no_errno (rmdir (dir));
  g_assert_no_errno (symlink (target, dir));
}

static gboolean
dir_is_empty (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);

  g_assert_nonnull (d);
  return g_dir_read_name (d) == NULL;
}

static void
assert_link_refused (const GError *error, const char *path)
{
  g_autofree char *want = g_strdup_printf ("%s is a symbolic link", path);

  g_assert_error (error, MS_ERROR, MS_ERROR_FOLDER);
  g_assert_nonnull (strstr (error->message, want));
}

/* A folder, or its tmp/, new/ or cur/, that is a symbolic link is
 * refused with an error naming it, and nothing is written where it
 * points; the root itself may be a link. */
static void
test_symlinks_refused (void)
{
  g_autofree char *root = make_root ();
  g_autofree char *top = g_path_get_dirname (root);
  g_autofree char *elsewhere = g_build_filename (top, "elsewhere", NULL);
  g_autoptr (MsSpool) spool = NULL;
  const char *seen[] = { "\\Seen", NULL };
  const char *const subs[] = { "new", "cur" };

  g_assert_true (ms_maildir_ensure (root, FALSE, NULL));

  /* the root's tmp/: the spool file cannot be written */
  {
    g_autofree char *tmp = g_build_filename (root, "tmp", NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (MsSpoolWriter) w = NULL;

    link_instead (tmp, elsewhere);
    w = ms_spool_writer_new (root, NULL, &error);
    g_assert_null (w);
    assert_link_refused (error, tmp);
    g_clear_error (&error);
    g_assert_false (ms_maildir_ensure (root, FALSE, &error));
    assert_link_refused (error, tmp);
    g_assert_true (dir_is_empty (elsewhere));
    g_assert_no_errno (unlink (tmp));
    g_assert_no_errno (mkdir (tmp, 0700));
  }
  spool = spool_text (root, "Subject: x\n\nbody\n");

  /* the root's new/ and cur/ */
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *sub = g_build_filename (root, subs[i], NULL);
      MsMaildirTarget t = { root, FALSE, i == 0 ? NULL : seen, NULL };
      g_autoptr (GError) error = NULL;

      link_instead (sub, elsewhere);
      g_assert_false (ms_maildir_deliver (spool->path, spool->unique, &t, 1, NULL, &error));
      assert_link_refused (error, sub);
      g_assert_null (t.delivered_path);
      g_assert_true (dir_is_empty (elsewhere));
      g_assert_no_errno (unlink (sub));
      g_assert_no_errno (mkdir (sub, 0700));
    }

  /* a subfolder, and each of its tmp/, new/ and cur/ */
  {
    g_autofree char *box = g_build_filename (root, ".Box", NULL);
    MsMaildirTarget t = { box, TRUE, NULL, NULL };
    g_autoptr (GError) error = NULL;

    g_assert_no_errno (mkdir (box, 0700));
    link_instead (box, elsewhere);
    g_assert_false (ms_maildir_deliver (spool->path, spool->unique, &t, 1, NULL, &error));
    assert_link_refused (error, box);
    g_assert_true (dir_is_empty (elsewhere));
    g_assert_no_errno (unlink (box));
  }
  for (guint i = 0; i < 3; i++)
    {
      const char *names[] = { "tmp", "new", "cur" };
      g_autofree char *box = g_build_filename (root, ".Box", NULL);
      g_autofree char *sub = g_build_filename (box, names[i], NULL);
      MsMaildirTarget t = { box, TRUE, NULL, NULL };
      g_autoptr (GError) error = NULL;

      g_assert_true (ms_maildir_ensure (box, TRUE, NULL));
      link_instead (sub, elsewhere);
      g_assert_false (ms_maildir_deliver (spool->path, spool->unique, &t, 1, NULL, &error));
      assert_link_refused (error, sub);
      g_assert_true (dir_is_empty (elsewhere));
      g_assert_no_errno (unlink (sub));
      g_assert_no_errno (mkdir (sub, 0700));
    }

  /* the root reached through a link: delivered */
  {
    g_autofree char *via = g_build_filename (top, "Mail-link", NULL);
    g_autofree char *box = g_build_filename (via, ".Box", NULL);
    g_autoptr (MsSpool) spool2 = NULL;
    MsMaildirTarget t[] = { { via, FALSE, NULL, NULL }, { box, TRUE, NULL, NULL } };
    g_autoptr (GError) error = NULL;

    g_assert_no_errno (symlink (root, via));
    spool2 = spool_text (via, "Subject: y\n\nbody\n");
    g_assert_true (ms_maildir_deliver (spool2->path, spool2->unique, t, 2, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_test (t[0].delivered_path, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (t[1].delivered_path, G_FILE_TEST_IS_REGULAR));
    g_free (t[0].delivered_path);
    g_free (t[1].delivered_path);
  }
}

/* editheader: the edited copy has the new header and every byte after
 * the old one, whatever they are. */
static void
test_spool_edited_copy (void)
{
  g_autofree char *root = make_root ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsSpoolWriter) w = ms_spool_writer_new (root, NULL, &error);
  g_autoptr (MsSpool) spool = NULL;
  g_autoptr (MsSpool) copy = NULL;
  g_autoptr (GBytes) header = g_bytes_new_static ("X-New: 1\nSubject: hi\n\n", 22);
  g_autoptr (GString) body = g_string_new (NULL);
  g_autofree char *data = NULL;
  g_autofree char *copy_path = NULL;
  gsize len;
  const char *head = "Subject: hi\nX-Old: 2\n\n";

  /* "\r\r\n" keeps a CR before the LF in the file, and a bare CR, NULs
   * and 8-bit bytes stay; more than one read buffer */
  static const char chunk[] = "line\r\r\n\0x\rz\xff\n";
  for (int i = 0; i < 20000; i++)
    g_string_append_len (body, chunk, sizeof chunk - 1);
  g_assert_no_error (error);
  g_assert_true (ms_spool_writer_write (w, head, strlen (head), &error));
  g_assert_true (ms_spool_writer_write (w, body->str, body->len, &error));
  spool = ms_spool_writer_finish (g_steal_pointer (&w), &error);
  g_assert_no_error (error);

  copy = ms_spool_edited_copy (spool, strlen (head), header, "edited1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copy->unique, ==, spool->unique);
  g_assert_true (g_str_has_suffix (copy->path, ".edited1"));
  g_assert_true (g_file_get_contents (copy->path, &data, &len, NULL));
  g_assert_cmpuint (len, ==, copy->size);
  g_assert_cmpmem (data, 22, "X-New: 1\nSubject: hi\n\n", 22);
  {
    g_autofree char *orig = NULL;
    gsize olen;
    g_assert_true (g_file_get_contents (spool->path, &orig, &olen, NULL));
    g_assert_cmpmem (data + 22, len - 22, orig + strlen (head), olen - strlen (head));
    g_assert_nonnull (memmem (orig, olen, "line\r\n", 6));
  }
  /* freeing the copy removes its file, not the spool's */
  copy_path = g_strdup (copy->path);
  g_clear_pointer (&copy, ms_spool_free);
  g_assert_false (g_file_test (copy_path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (spool->path, G_FILE_TEST_EXISTS));
}

/* CRLF becomes LF whatever the chunks: the text is fed split at every
 * position (and byte by byte), and the file must equal a reference made
 * byte by byte. A CR not followed by LF stays, also at the end. */
static void
test_spool_crlf_chunks (void)
{
  static const char text[] = "A: b\r\n\r\nx\r\r\ny\rz\r\n\r\r\r\n\r";
  const gsize n = sizeof text - 1;
  g_autofree char *root = make_root ();
  g_autoptr (GString) want = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    if (!(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n'))
      g_string_append_c (want, text[i]);
  for (gsize cut = 0; cut <= n + 1; cut++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsSpoolWriter) w = ms_spool_writer_new (root, NULL, &error);
      g_autoptr (MsSpool) spool = NULL;
      g_autofree char *data = NULL;
      gsize len;

      g_assert_no_error (error);
      if (cut <= n)
        {
          g_assert_true (ms_spool_writer_write (w, text, cut, &error));
          g_assert_true (ms_spool_writer_write (w, text + cut, n - cut, &error));
        }
      else /* byte by byte */
        for (gsize i = 0; i < n; i++)
          g_assert_true (ms_spool_writer_write (w, text + i, 1, &error));
      spool = ms_spool_writer_finish (g_steal_pointer (&w), &error);
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (spool->path, &data, &len, NULL));
      g_assert_cmpmem (data, len, want->str, want->len);
      g_assert_cmpuint (spool->size, ==, want->len);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/maildir/folder-names", test_folder_names);
  g_test_add_func ("/maildir/unique-names", test_unique_names);
  g_test_add_func ("/maildir/info-flags", test_info_flags);
  g_test_add_func ("/maildir/spool-and-deliver", test_spool_and_deliver);
  g_test_add_func ("/maildir/all-or-nothing", test_deliver_all_or_nothing);
  g_test_add_func ("/maildir/spool-big-crlf-across-chunks", test_spool_big_flat);
  g_test_add_func ("/maildir/sweep-tmp", test_sweep_tmp);
  g_test_add_func ("/maildir/sweep-tmp-no-follow", test_sweep_tmp_no_follow);
  g_test_add_func ("/maildir/sweep-tmp-dead-process", test_sweep_tmp_dead_process);
  g_test_add_func ("/maildir/symlinks-refused", test_symlinks_refused);
  g_test_add_func ("/maildir/spool-edited-copy", test_spool_edited_copy);
  g_test_add_func ("/maildir/spool-crlf-chunks", test_spool_crlf_chunks);
  return g_test_run ();
}
