/* Unit tests: the filter process's sandbox (filters/sandbox.h). Each test
 * forks; the child enters the sandbox (or one part of it), tries what the
 * filter process must not do (write, create, remove, rename, chmod, a
 * socket, a TCP connect, exec, fork, ptrace) and what it must (read a
 * file, list a folder, start a thread), and reports each errno on a pipe.
 * A part the kernel here lacks is skipped, except seccomp on a kernel
 * that has it. */
#include "sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum {
  PART_SECCOMP,
  PART_LANDLOCK,
  PART_ALL,
} Part;

typedef struct {
  char *dir;       /* a temporary folder */
  char *existing;  /* a file in it, "hello" */
  int listener;    /* TCP on 127.0.0.1 */
  guint16 port;
  GHashTable *got; /* probe -> errno (0: it worked) */
  int status;      /* the child's wait status */
} Fixture;

static void
report (int fd, const char *name, int err)
{
  g_autofree char *line = g_strdup_printf ("%s=%d\n", name, err);
  ssize_t w = write (fd, line, strlen (line));
  (void) w;
}

static int
try_open (const char *path, int flags)
{
  int fd = open (path, flags, 0600);

  if (fd < 0)
    return errno;
  close (fd);
  return 0;
}

static int
result (int rc)
{
  return rc == 0 ? 0 : errno;
}

static gpointer
thread_main (gpointer data)
{
  return GINT_TO_POINTER (42);
}

/* The child: enter @part, then try everything, one line each. */
static void
child (Fixture *fx, Part part, int out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *newfile = g_build_filename (fx->dir, "new", NULL);
  g_autofree char *subdir = g_build_filename (fx->dir, "sub", NULL);
  g_autofree char *renamed = g_build_filename (fx->dir, "renamed", NULL);
  g_autofree char *contents = NULL;
  struct sockaddr_in addr = { 0 };
  char *const argv[] = { (char *) "true", NULL };
  int client = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* made before */
  GDir *dir;
  GThread *thread;
  pid_t pid;
  long peek;
  int s;

  switch (part)
    {
    case PART_SECCOMP:
      report (out, "enter", ms_sandbox_no_new_privs (&error) && ms_sandbox_seccomp (&error) ? 0 : 1);
      break;
    case PART_LANDLOCK:
      report (out, "enter", ms_sandbox_no_new_privs (&error) && ms_sandbox_landlock (&error) ? 0 : 1);
      break;
    case PART_ALL:
      {
        g_auto (MsSandbox) sb = { 0 };
        ms_sandbox_enter (&sb);
        report (out, "enter", sb.complete ? 0 : 1);
        report (out, "enter-landlock", sb.landlock ? 0 : 1);
        report (out, "enter-seccomp", sb.seccomp ? 0 : 1);
        break;
      }
    }
  if (error)
    g_printerr ("# child: %s\n", error->message);

  /* must work (first: the probes below would remove the file where
   * they are not stopped) */
  report (out, "read-file", g_file_get_contents (fx->existing, &contents, NULL, NULL)
                              && g_strcmp0 (contents, "hello") == 0 ? 0 : 1);
  dir = g_dir_open (fx->dir, 0, NULL);
  if (dir)
    {
      const char *name;
      while ((name = g_dir_read_name (dir)) && strcmp (name, "existing") != 0)
        ;
      report (out, "list-folder", name ? 0 : 1);
      g_dir_close (dir);
    }
  g_clear_pointer (&contents, g_free);
  report (out, "read-proc-status", g_file_get_contents ("/proc/self/status", &contents, NULL, NULL) ? 0 : 1);
  if (contents && strstr (contents, "\nNoNewPrivs:\t1\n"))
    report (out, "status-no-new-privs", 0);
  if (contents && strstr (contents, "\nSeccomp:\t2\n"))
    report (out, "status-seccomp-filter", 0);
  thread = g_thread_try_new ("probe", thread_main, NULL, NULL);
  report (out, "thread", thread && g_thread_join (thread) == GINT_TO_POINTER (42) ? 0 : 1);

  /* must fail */
  report (out, "open-new-for-writing", try_open (newfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC));
  report (out, "open-existing-rdwr", try_open (fx->existing, O_RDWR | O_CLOEXEC));
  report (out, "open-existing-append", try_open (fx->existing, O_WRONLY | O_APPEND | O_CLOEXEC));
  report (out, "open-existing-trunc", try_open (fx->existing, O_RDONLY | O_TRUNC | O_CLOEXEC));
  s = creat (newfile, 0600);
  report (out, "creat", s < 0 ? errno : 0);
  if (s >= 0)
    close (s);
  report (out, "unlink", result (unlink (fx->existing)));
  report (out, "mkdir", result (mkdir (subdir, 0700)));
  report (out, "rename", result (rename (fx->existing, renamed)));
  report (out, "symlink", result (symlink (fx->existing, renamed)));
  report (out, "chmod", result (chmod (fx->existing, 0666)));
  s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  report (out, "socket-inet", s < 0 ? errno : 0);
  if (s >= 0)
    close (s);
  s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  report (out, "socket-unix", s < 0 ? errno : 0);
  if (s >= 0)
    close (s);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (fx->port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  report (out, "connect-tcp", client < 0 ? -1 : result (connect (client, (struct sockaddr *) &addr, sizeof addr)));
  /* on a process it does not trace: ESRCH where ptrace is allowed */
  errno = 0;
  peek = ptrace (PTRACE_PEEKDATA, getppid (), NULL, NULL);
  report (out, "ptrace", peek == -1 ? errno : 0);
  /* on the pipe: ENOTTY where the ioctl is allowed */
  report (out, "ioctl-tiocsti", result (ioctl (out, TIOCSTI, "x")));
  pid = fork ();
  if (pid == 0)
    _exit (0);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  report (out, "fork", pid < 0 ? errno : 0);

  /* last: if it works, this process is /bin/true and the line is missing */
  execve ("/bin/true", argv, NULL);
  report (out, "execve", errno);
  _exit (0);
}

static void
fixture_run (Fixture *fx, Part part)
{
  g_autoptr (GString) text = g_string_new (NULL);
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int p[2];
  pid_t pid;
  char buf[4096];
  ssize_t n;

  fx->dir = g_dir_make_tmp ("ms-sandbox-XXXXXX", NULL);
  g_assert_nonnull (fx->dir);
  fx->existing = g_build_filename (fx->dir, "existing", NULL);
  g_assert_true (g_file_set_contents (fx->existing, "hello", -1, NULL));
  fx->listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fx->listener, >=, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_no_errno (bind (fx->listener, (struct sockaddr *) &addr, sizeof addr));
  g_assert_no_errno (listen (fx->listener, 8));
  g_assert_no_errno (getsockname (fx->listener, (struct sockaddr *) &addr, &len));
  fx->port = ntohs (addr.sin_port);

  g_assert_no_errno (pipe2 (p, O_CLOEXEC));
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (p[0]);
      child (fx, part, p[1]);
      _exit (0);
    }
  close (p[1]);
  while ((n = read (p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      g_string_append_len (text, buf, n);
  close (p[0]);
  g_assert_cmpint (waitpid (pid, &fx->status, 0), ==, pid);

  fx->got = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  {
    g_auto (GStrv) lines = g_strsplit (text->str, "\n", -1);
    for (guint i = 0; lines[i]; i++)
      {
        char *eq = strchr (lines[i], '=');
        if (eq == NULL)
          continue;
        *eq = '\0';
        g_hash_table_insert (fx->got, g_strdup (lines[i]), GINT_TO_POINTER (atoi (eq + 1)));
      }
  }
  g_test_message ("child reported: %s", text->str);
}

static void
fixture_clear (Fixture *fx)
{
  g_autofree char *renamed = g_build_filename (fx->dir, "renamed", NULL);
  g_autofree char *newfile = g_build_filename (fx->dir, "new", NULL);
  g_autofree char *subdir = g_build_filename (fx->dir, "sub", NULL);

  g_unlink (fx->existing);
  g_unlink (renamed);
  g_unlink (newfile);
  g_rmdir (subdir);
  g_rmdir (fx->dir);
  close (fx->listener);
  g_free (fx->dir);
  g_free (fx->existing);
  g_clear_pointer (&fx->got, g_hash_table_unref);
}

/* The errno the child reported for @probe; -2 when it reported none. */
static int
got (Fixture *fx, const char *probe)
{
  gpointer v;

  if (!g_hash_table_lookup_extended (fx->got, probe, NULL, &v))
    return -2;
  return GPOINTER_TO_INT (v);
}

#define assert_errno(fx, probe, want)                                                          \
  do {                                                                                         \
    int got_ = got ((fx), (probe));                                                            \
    if (got_ != (want))                                                                        \
      g_error ("%s: got %d (%s), want %d (%s)", (probe), got_, got_ > 0 ? g_strerror (got_) : "", \
               (want), g_strerror (want));                                                     \
  } while (0)

#define assert_denied(fx, probe)                                                               \
  do {                                                                                         \
    int got_ = got ((fx), (probe));                                                            \
    if (got_ <= 0)                                                                             \
      g_error ("%s: %s", (probe), got_ == 0 ? "worked in the sandbox" : "not reported");        \
  } while (0)

static void
assert_reads_work (Fixture *fx)
{
  g_assert_true (WIFEXITED (fx->status));
  g_assert_cmpint (WEXITSTATUS (fx->status), ==, 0);
  assert_errno (fx, "read-file", 0);
  assert_errno (fx, "list-folder", 0);
  assert_errno (fx, "read-proc-status", 0);
  g_assert_true (g_file_test (fx->existing, G_FILE_TEST_IS_REGULAR));
}

static gboolean
kernel_has_seccomp (void)
{
  g_autofree char *status = NULL;

  return g_file_get_contents ("/proc/self/status", &status, NULL, NULL) && strstr (status, "\nSeccomp:");
}

static void
test_seccomp (void)
{
  Fixture fx = { 0 };

  if (!kernel_has_seccomp ())
    {
      g_test_skip ("the kernel has no seccomp (no Seccomp: in /proc/self/status)");
      return;
    }
#if !defined(__x86_64__) && !defined(__aarch64__)
  g_test_skip ("no seccomp filter for this architecture");
  return;
#endif
  fixture_run (&fx, PART_SECCOMP);
  assert_errno (&fx, "enter", 0);
  assert_reads_work (&fx);
  assert_errno (&fx, "open-new-for-writing", EACCES);
  assert_errno (&fx, "open-existing-rdwr", EACCES);
  assert_errno (&fx, "open-existing-append", EACCES);
  assert_errno (&fx, "open-existing-trunc", EACCES);
  assert_errno (&fx, "creat", EACCES);
  assert_errno (&fx, "unlink", EPERM);
  assert_errno (&fx, "mkdir", EPERM);
  assert_errno (&fx, "rename", EPERM);
  assert_errno (&fx, "symlink", EPERM);
  assert_errno (&fx, "chmod", EPERM);
  assert_errno (&fx, "socket-inet", EPERM);
  assert_errno (&fx, "socket-unix", EPERM);
  assert_errno (&fx, "connect-tcp", EPERM);
  assert_errno (&fx, "ptrace", EPERM);
  assert_errno (&fx, "ioctl-tiocsti", EPERM);
  assert_errno (&fx, "fork", EPERM);
  assert_errno (&fx, "execve", EPERM);
  assert_errno (&fx, "thread", 0);
  assert_errno (&fx, "status-seccomp-filter", 0);
  fixture_clear (&fx);
}

#if defined(__x86_64__)
/* An x32 system call (another numbering) kills the process. */
static void
test_seccomp_x32 (void)
{
  pid_t pid;
  int status;

  if (!kernel_has_seccomp ())
    {
      g_test_skip ("the kernel has no seccomp");
      return;
    }
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      if (!ms_sandbox_no_new_privs (NULL) || !ms_sandbox_seccomp (NULL))
        _exit (2);
      syscall (0x40000000 | __NR_getpid);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGSYS);
}
#endif

static void
test_landlock (void)
{
  g_autoptr (GError) error = NULL;
  int abi = ms_sandbox_landlock_abi (&error);
  Fixture fx = { 0 };

  if (abi < 1)
    {
      g_test_skip (error->message);
      return;
    }
  g_test_message ("Landlock ABI %d", abi);
  fixture_run (&fx, PART_LANDLOCK);
  assert_errno (&fx, "enter", 0);
  assert_reads_work (&fx);
  assert_denied (&fx, "open-new-for-writing");
  assert_denied (&fx, "open-existing-rdwr");
  assert_denied (&fx, "open-existing-append");
  if (abi >= 3)
    assert_denied (&fx, "open-existing-trunc");
  assert_denied (&fx, "creat");
  assert_denied (&fx, "unlink");
  assert_denied (&fx, "mkdir");
  assert_denied (&fx, "rename");
  assert_denied (&fx, "symlink");
  assert_denied (&fx, "execve");
  /* not Landlock's: seccomp's */
  assert_errno (&fx, "socket-inet", 0);
  assert_errno (&fx, "fork", 0);
  assert_errno (&fx, "thread", 0);
  fixture_clear (&fx);
}

static void
test_landlock_tcp (void)
{
  int abi = ms_sandbox_landlock_abi (NULL);
  Fixture fx = { 0 };

  if (abi < 4)
    {
      g_test_skip (abi < 1 ? "the kernel has no Landlock" : "Landlock ABI < 4: no TCP rules");
      return;
    }
  fixture_run (&fx, PART_LANDLOCK);
  assert_errno (&fx, "enter", 0);
  assert_errno (&fx, "connect-tcp", EACCES);
  fixture_clear (&fx);
}

/* What the filter process does at its start: everything the kernel has. */
static void
test_enter (void)
{
  Fixture fx = { 0 };
  gboolean seccomp = kernel_has_seccomp ();
  gboolean landlock = ms_sandbox_landlock_abi (NULL) >= 1;

  fixture_run (&fx, PART_ALL);
  assert_reads_work (&fx);
  assert_errno (&fx, "status-no-new-privs", 0);
  if (landlock)
    assert_errno (&fx, "enter-landlock", 0);
#if defined(__x86_64__) || defined(__aarch64__)
  if (seccomp)
    {
      assert_errno (&fx, "enter-seccomp", 0);
      assert_errno (&fx, "status-seccomp-filter", 0);
    }
#endif
  if (!landlock && !seccomp)
    {
      g_test_skip ("the kernel has neither Landlock nor seccomp");
      fixture_clear (&fx);
      return;
    }
  assert_denied (&fx, "open-new-for-writing");
  assert_denied (&fx, "open-existing-rdwr");
  assert_denied (&fx, "unlink");
  assert_denied (&fx, "mkdir");
  assert_denied (&fx, "rename");
  assert_denied (&fx, "execve");
  if (seccomp || ms_sandbox_landlock_abi (NULL) >= 4)
    assert_denied (&fx, "connect-tcp");
  if (seccomp)
    {
      assert_denied (&fx, "socket-inet");
      assert_denied (&fx, "fork");
      assert_denied (&fx, "ptrace");
    }
  assert_errno (&fx, "thread", 0);
  fixture_clear (&fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sandbox/seccomp", test_seccomp);
#if defined(__x86_64__)
  g_test_add_func ("/sandbox/seccomp-x32-kills", test_seccomp_x32);
#endif
  g_test_add_func ("/sandbox/landlock", test_landlock);
  g_test_add_func ("/sandbox/landlock-tcp", test_landlock_tcp);
  g_test_add_func ("/sandbox/enter", test_enter);
  return g_test_run ();
}
