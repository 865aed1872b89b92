/* Test shim, loaded with LD_PRELOAD by tests/durability.py: appends one
 * line per file system or network call to the file TRACE_LOG names, in
 * the order the calls returned, so that the test can check what was on
 * disk before mailsift told a server (or the state store) anything.
 *
 * A line is "PID EVENT FIELDS...", tab-separated:
 *   open     fd flags created(0/1) kind(f/d) dev:ino parentdev:parentino path
 *            (the directory's id only when the open created the file)
 *   write    fd bytes dev:ino path               (regular files only)
 *   fsync    fd dev:ino path   (also fdatasync; syncfs has the fd only)
 *   sfr      fd dev:ino path   (sync_file_range: starts writeback, no sync)
 *   link     dev:ino dirdev:dirino old new      (also rename)
 *   mkdir    dev:ino parentdev:parentino path path
 *   unlink   path
 *   close    fd path
 *   send     fd eod(0/1) first line           (TCP sockets only)
 *   recv     fd first line                    (TCP sockets only)
 * Paths of *at() calls are made absolute from the directory fd's path.
 *
 * Each line goes out in one write(2) to a file opened O_APPEND, so the
 * lines of the filter worker and the account processes do not mix.
 * No locks (a fork while another thread held one would hang the child):
 * the fd table has a slot per fd, and a slot is cleared before its fd is
 * closed, so an fd reused by another thread is never clobbered. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <netinet/in.h>

#define MAX_FD 4096
#define SLOT_PATH 1024

typedef struct {
  char kind; /* 0 unknown, 'f' file, 'd' directory, 's' TCP socket, 'x' other */
  dev_t dev;
  ino_t ino;
  char path[SLOT_PATH];
} Slot;

static Slot slots[MAX_FD];
static __thread int busy;
static int log_fd = -1;
static dev_t log_dev;
static ino_t log_ino;

#define REAL(name) real_##name
#define LOAD(name) \
  do { if (!REAL (name)) REAL (name) = dlsym (RTLD_NEXT, #name); } while (0)

static int (*real_open) (const char *, int, ...);
static int (*real_open64) (const char *, int, ...);
static int (*real_openat) (int, const char *, int, ...);
static int (*real_openat64) (int, const char *, int, ...);
static int (*real___open_2) (const char *, int);
static int (*real___open64_2) (const char *, int);
static int (*real___openat_2) (int, const char *, int);
static int (*real___openat64_2) (int, const char *, int);
static ssize_t (*real_write) (int, const void *, size_t);
static ssize_t (*real_pwrite) (int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64) (int, const void *, size_t, off_t);
static ssize_t (*real_writev) (int, const struct iovec *, int);
static int (*real_fsync) (int);
static int (*real_fdatasync) (int);
static int (*real_syncfs) (int);
static int (*real_sync_file_range) (int, off_t, off_t, unsigned int);
static int (*real_rename) (const char *, const char *);
static int (*real_renameat) (int, const char *, int, const char *);
static int (*real_renameat2) (int, const char *, int, const char *, unsigned int);
static int (*real_link) (const char *, const char *);
static int (*real_linkat) (int, const char *, int, const char *, int);
static int (*real_unlink) (const char *);
static int (*real_unlinkat) (int, const char *, int);
static int (*real_mkdir) (const char *, mode_t);
static int (*real_mkdirat) (int, const char *, mode_t);
static int (*real_close) (int);
static int (*real_socket) (int, int, int);
static ssize_t (*real_send) (int, const void *, size_t, int);
static ssize_t (*real_sendto) (int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg) (int, const struct msghdr *, int);
static ssize_t (*real_recv) (int, void *, size_t, int);
static ssize_t (*real_recvfrom) (int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg) (int, struct msghdr *, int);
static ssize_t (*real_read) (int, void *, size_t);
static ssize_t (*real_readv) (int, const struct iovec *, int);

/* ---------------------------------------------------------------- log */

static int
log_open (void)
{
  const char *name = getenv ("TRACE_LOG");
  struct stat st;

  if (name == NULL || *name == '\0')
    return -1;
  /* the program may have closed it (a spawned child closes every fd)
   * and got the number back for something else: check it is still ours */
  if (log_fd >= 0 && (fstat (log_fd, &st) != 0 || st.st_dev != log_dev || st.st_ino != log_ino))
    log_fd = -1;
  if (log_fd < 0)
    {
      LOAD (open);
      log_fd = real_open (name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (log_fd >= 0 && fstat (log_fd, &st) == 0)
        log_dev = st.st_dev, log_ino = st.st_ino;
    }
  return log_fd;
}

static void
emit (const char *fmt, ...)
{
  char line[4096];
  int n, fd, saved = errno;
  va_list ap;

  fd = log_open ();
  if (fd < 0)
    {
      errno = saved;
      return;
    }
  n = snprintf (line, sizeof line, "%d\t", (int) getpid ());
  va_start (ap, fmt);
  n += vsnprintf (line + n, sizeof line - n - 1, fmt, ap);
  va_end (ap);
  if (n > (int) sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  LOAD (write);
  (void) !real_write (fd, line, n);
  errno = saved;
}

/* ---------------------------------------------------------------- fds */

static void ids (int dirfd, const char *path, char *file, char *dir, size_t size);

static Slot *
slot (int fd)
{
  return fd >= 0 && fd < MAX_FD ? &slots[fd] : NULL;
}

/* @path made absolute against @dirfd; into @out. */
static void
resolve (int dirfd, const char *path, char *out, size_t size)
{
  char cwd[2048];
  Slot *s;

  if (path == NULL)
    snprintf (out, size, "?");
  else if (path[0] == '/')
    snprintf (out, size, "%s", path);
  else if (dirfd == AT_FDCWD)
    snprintf (out, size, "%.2000s/%.2000s", getcwd (cwd, sizeof cwd) ? cwd : "?", path);
  else if ((s = slot (dirfd)) && s->kind == 'd')
    snprintf (out, size, "%s/%s", s->path, path);
  else
    snprintf (out, size, "?fd%d/%s", dirfd, path);
}

/* What @fd is, looked up once: TCP sockets matter, regular files and
 * directories are remembered when opened. */
static char
kind_of (int fd)
{
  Slot *s = slot (fd);
  struct stat st;

  if (s == NULL)
    return 'x';
  /* closed behind our back (closedir, fclose: glibc's own close) and the
   * number reused for a pipe or an eventfd: look again */
  if ((s->kind == 'f' || s->kind == 'd')
      && (fstat (fd, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino))
    s->kind = 0;
  if (s->kind == 0)
    {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      if (fstat (fd, &st) != 0)
        return 'x';
      if (S_ISSOCK (st.st_mode) && getsockname (fd, (struct sockaddr *) &ss, &len) == 0
          && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
        s->kind = 's';
      else if (S_ISREG (st.st_mode) || S_ISDIR (st.st_mode))
        {
          /* opened where we did not see it (dup, inherited): no path */
          s->kind = S_ISREG (st.st_mode) ? 'f' : 'd';
          s->dev = st.st_dev, s->ino = st.st_ino;
          snprintf (s->path, sizeof s->path, "?");
        }
      else
        s->kind = 'x';
    }
  return s->kind;
}

static void
opened (int fd, int flags, int created, int dirfd, const char *path)
{
  Slot *s = slot (fd);
  char parent[64] = "-";
  struct stat st;

  if (s == NULL || fstat (fd, &st) != 0)
    return;
  if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode))
    {
      s->kind = 'x';
      return;
    }
  s->kind = S_ISREG (st.st_mode) ? 'f' : 'd';
  s->dev = st.st_dev, s->ino = st.st_ino;
  resolve (dirfd, path, s->path, sizeof s->path);
  if (created)
    {
      char file[64];
      ids (dirfd, path, file, parent, sizeof parent);
    }
  emit ("open\t%d\t%#x\t%d\t%c\t%lu:%lu\t%s\t%s", fd, flags, created, s->kind, (unsigned long) s->dev,
        (unsigned long) s->ino, parent, s->path);
}

/* Whether an open with @flags creates @path: it did not exist before. */
static int
will_create (int dirfd, const char *path, int flags)
{
  struct stat st;

  return (flags & O_CREAT) && fstatat (dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
}

/* The traced call @call, which opens @path (against @dirfd). */
#define OPEN_TRACE(call, dirfd)                                                  \
  do {                                                                           \
    int fd_, created_;                                                           \
    if (busy)                                                                    \
      return call;                                                               \
    busy = 1;                                                                    \
    created_ = will_create (dirfd, path, flags);                                 \
    fd_ = call;                                                                  \
    if (fd_ >= 0)                                                                \
      {                                                                          \
        int saved_ = errno;                                                      \
        opened (fd_, flags, created_, dirfd, path);                              \
        errno = saved_;                                                          \
      }                                                                          \
    busy = 0;                                                                    \
    return fd_;                                                                  \
  } while (0)

#define MODE_ARG(mode)                                                           \
  mode_t mode = 0;                                                               \
  if (flags & (O_CREAT | O_TMPFILE))                                             \
    {                                                                            \
      va_list ap;                                                                \
      va_start (ap, flags);                                                      \
      mode = va_arg (ap, mode_t);                                                \
      va_end (ap);                                                               \
    }

int
open (const char *path, int flags, ...)
{
  MODE_ARG (mode);
  LOAD (open);
  OPEN_TRACE (real_open (path, flags, mode), AT_FDCWD);
}

int
open64 (const char *path, int flags, ...)
{
  MODE_ARG (mode);
  LOAD (open64);
  OPEN_TRACE (real_open64 (path, flags, mode), AT_FDCWD);
}

int
openat (int dirfd, const char *path, int flags, ...)
{
  MODE_ARG (mode);
  LOAD (openat);
  OPEN_TRACE (real_openat (dirfd, path, flags, mode), dirfd);
}

int
openat64 (int dirfd, const char *path, int flags, ...)
{
  MODE_ARG (mode);
  LOAD (openat64);
  OPEN_TRACE (real_openat64 (dirfd, path, flags, mode), dirfd);
}

/* the _FORTIFY_SOURCE entry points (no mode argument) */
int __open_2 (const char *path, int flags);
int __open64_2 (const char *path, int flags);
int __openat_2 (int dirfd, const char *path, int flags);
int __openat64_2 (int dirfd, const char *path, int flags);

int
__open_2 (const char *path, int flags)
{
  LOAD (__open_2);
  OPEN_TRACE (real___open_2 (path, flags), AT_FDCWD);
}

int
__open64_2 (const char *path, int flags)
{
  LOAD (__open64_2);
  OPEN_TRACE (real___open64_2 (path, flags), AT_FDCWD);
}

int
__openat_2 (int dirfd, const char *path, int flags)
{
  LOAD (__openat_2);
  OPEN_TRACE (real___openat_2 (dirfd, path, flags), dirfd);
}

int
__openat64_2 (int dirfd, const char *path, int flags)
{
  LOAD (__openat64_2);
  OPEN_TRACE (real___openat64_2 (dirfd, path, flags), dirfd);
}

int
creat (const char *path, mode_t mode)
{
  return open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int
creat64 (const char *path, mode_t mode)
{
  return open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int
close (int fd)
{
  Slot *s = slot (fd);

  LOAD (close);
  if (fd == log_fd)
    log_fd = -1;
  if (s && !busy)
    {
      char kind = kind_of (fd);
      if (kind == 'f' || kind == 'd')
        emit ("close\t%d\t%s", fd, s->path);
      s->kind = 0; /* before the fd can be given out again */
    }
  return real_close (fd);
}

/* ---------------------------------------------------------------- text */

/* The first line of @buf, printable, into @out. */
static void
first_line (const void *buf, size_t len, char *out, size_t size)
{
  const unsigned char *p = buf;
  size_t o = 0;

  for (size_t i = 0; i < len && o + 5 < size; i++)
    {
      if (p[i] == '\n')
        break;
      if (p[i] == '\r')
        continue;
      if (p[i] == '\\' || p[i] < 0x20 || p[i] >= 0x7f)
        o += snprintf (out + o, size - o, "\\x%02x", p[i]);
      else
        out[o++] = p[i];
    }
  out[o] = '\0';
}

static int
ends_data (const void *buf, size_t len)
{
  return len >= 3 && memcmp ((const char *) buf + len - 3, ".\r\n", 3) == 0
         && (len == 3 || ((const char *) buf)[len - 4] == '\n');
}

static void
sent (int fd, const void *buf, ssize_t n)
{
  char text[256];

  if (n <= 0 || busy || kind_of (fd) != 's')
    return;
  first_line (buf, n, text, sizeof text);
  emit ("send\t%d\t%d\t%s", fd, ends_data (buf, n), text);
}

static void
received (int fd, const void *buf, ssize_t n)
{
  char text[256];

  if (n <= 0 || busy || kind_of (fd) != 's')
    return;
  first_line (buf, n, text, sizeof text);
  emit ("recv\t%d\t%s", fd, text);
}

/* An iovec gathered into one buffer for sent() (first 4 KiB and the
 * last 5 bytes are all that matter). */
static void
sent_iov (int fd, const struct iovec *iov, int cnt, ssize_t n)
{
  char head[4096], tail[5] = { 0 };
  size_t h = 0, total = 0, t = 0;

  head[0] = '\0';

  if (n <= 0 || busy || kind_of (fd) != 's')
    return;
  for (int i = 0; i < cnt && total < (size_t) n; i++)
    {
      size_t len = iov[i].iov_len;
      if (len > (size_t) n - total)
        len = (size_t) n - total;
      for (size_t k = 0; k < len; k++)
        {
          char c = ((const char *) iov[i].iov_base)[k];
          if (h < sizeof head)
            head[h++] = c;
          memmove (tail, tail + 1, 4);
          tail[4] = c;
          t++;
        }
      total += len;
    }
  {
    char text[256];
    size_t tl = t < 5 ? t : 5;
    first_line (head, h, text, sizeof text);
    emit ("send\t%d\t%d\t%s", fd, ends_data (tail + 5 - tl, tl), text);
  }
}

/* ---------------------------------------------------------------- data */

static void
wrote (int fd, ssize_t n)
{
  Slot *s = slot (fd);

  if (n > 0 && !busy && s && kind_of (fd) == 'f')
    emit ("write\t%d\t%zd\t%lu:%lu\t%s", fd, n, (unsigned long) s->dev, (unsigned long) s->ino, s->path);
}

ssize_t
write (int fd, const void *buf, size_t count)
{
  ssize_t n;

  LOAD (write);
  n = real_write (fd, buf, count);
  if (n > 0 && !busy)
    {
      int saved = errno;
      wrote (fd, n);
      sent (fd, buf, n);
      errno = saved;
    }
  return n;
}

ssize_t
pwrite (int fd, const void *buf, size_t count, off_t off)
{
  ssize_t n;

  LOAD (pwrite);
  n = real_pwrite (fd, buf, count, off);
  wrote (fd, n);
  return n;
}

ssize_t
pwrite64 (int fd, const void *buf, size_t count, off_t off)
{
  ssize_t n;

  LOAD (pwrite64);
  n = real_pwrite64 (fd, buf, count, off);
  wrote (fd, n);
  return n;
}

ssize_t
writev (int fd, const struct iovec *iov, int cnt)
{
  ssize_t n;

  LOAD (writev);
  n = real_writev (fd, iov, cnt);
  if (n > 0 && !busy)
    {
      int saved = errno;
      wrote (fd, n);
      sent_iov (fd, iov, cnt, n);
      errno = saved;
    }
  return n;
}

static void
synced (const char *what, int fd, int r)
{
  Slot *s = slot (fd);
  int saved = errno;

  if (r != 0 || busy)
    return;
  if (s && (kind_of (fd) == 'f' || kind_of (fd) == 'd'))
    emit ("%s\t%d\t%lu:%lu\t%s", what, fd, (unsigned long) s->dev, (unsigned long) s->ino, s->path);
  else
    emit ("%s\t%d\t-\t?", what, fd);
  errno = saved;
}

int
fsync (int fd)
{
  int r;

  LOAD (fsync);
  r = real_fsync (fd);
  synced ("fsync", fd, r);
  return r;
}

int
fdatasync (int fd)
{
  int r;

  LOAD (fdatasync);
  r = real_fdatasync (fd);
  synced ("fsync", fd, r);
  return r;
}

int
syncfs (int fd)
{
  int r;

  LOAD (syncfs);
  r = real_syncfs (fd);
  if (r == 0 && !busy)
    emit ("syncfs\t%d", fd);
  return r;
}

int
sync_file_range (int fd, off_t off, off_t n, unsigned int flags)
{
  int r;

  LOAD (sync_file_range);
  r = real_sync_file_range (fd, off, n, flags);
  synced ("sfr", fd, r);
  return r;
}

/* ---------------------------------------------------------------- names */

/* "dev:ino" of @path (not followed) and of the directory holding it. */
static void
ids (int dirfd, const char *path, char *file, char *dir, size_t size)
{
  struct stat st;
  const char *slash = strrchr (path, '/');
  int r;

  if (fstatat (dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
    snprintf (file, size, "%lu:%lu", (unsigned long) st.st_dev, (unsigned long) st.st_ino);
  else
    snprintf (file, size, "-");
  if (slash == NULL)
    r = dirfd == AT_FDCWD ? stat (".", &st) : fstat (dirfd, &st);
  else
    {
      char parent[PATH_MAX];
      snprintf (parent, sizeof parent, "%.*s", (int) (slash - path), path);
      r = fstatat (dirfd, slash == path ? "/" : parent, &st, 0);
    }
  if (r == 0)
    snprintf (dir, size, "%lu:%lu", (unsigned long) st.st_dev, (unsigned long) st.st_ino);
  else
    snprintf (dir, size, "-");
}

static void
named (const char *what, int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int r)
{
  char old[PATH_MAX], new[PATH_MAX], file[64], dir[64];
  int saved = errno;

  if (r != 0 || busy)
    return;
  busy = 1;
  resolve (olddirfd, oldpath, old, sizeof old);
  resolve (newdirfd, newpath, new, sizeof new);
  ids (newdirfd, newpath, file, dir, sizeof file);
  emit ("%s\t%s\t%s\t%s\t%s", what, file, dir, old, new);
  busy = 0;
  errno = saved;
}

int
rename (const char *oldpath, const char *newpath)
{
  int r;

  LOAD (rename);
  r = real_rename (oldpath, newpath);
  named ("rename", AT_FDCWD, oldpath, AT_FDCWD, newpath, r);
  return r;
}

int
renameat (int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
  int r;

  LOAD (renameat);
  r = real_renameat (olddirfd, oldpath, newdirfd, newpath);
  named ("rename", olddirfd, oldpath, newdirfd, newpath, r);
  return r;
}

int
renameat2 (int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)
{
  int r;

  LOAD (renameat2);
  r = real_renameat2 (olddirfd, oldpath, newdirfd, newpath, flags);
  named ("rename", olddirfd, oldpath, newdirfd, newpath, r);
  return r;
}

int
link (const char *oldpath, const char *newpath)
{
  int r;

  LOAD (link);
  r = real_link (oldpath, newpath);
  named ("link", AT_FDCWD, oldpath, AT_FDCWD, newpath, r);
  return r;
}

int
linkat (int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
  int r;

  LOAD (linkat);
  r = real_linkat (olddirfd, oldpath, newdirfd, newpath, flags);
  named ("link", olddirfd, oldpath, newdirfd, newpath, r);
  return r;
}

int
mkdir (const char *path, mode_t mode)
{
  int r;

  LOAD (mkdir);
  r = real_mkdir (path, mode);
  named ("mkdir", AT_FDCWD, path, AT_FDCWD, path, r);
  return r;
}

int
mkdirat (int dirfd, const char *path, mode_t mode)
{
  int r;

  LOAD (mkdirat);
  r = real_mkdirat (dirfd, path, mode);
  named ("mkdir", dirfd, path, dirfd, path, r);
  return r;
}

static void
unlinked (int dirfd, const char *path, int r)
{
  char full[PATH_MAX];
  int saved = errno;

  if (r != 0 || busy)
    return;
  resolve (dirfd, path, full, sizeof full);
  emit ("unlink\t%s", full);
  errno = saved;
}

int
unlink (const char *path)
{
  int r;

  LOAD (unlink);
  r = real_unlink (path);
  unlinked (AT_FDCWD, path, r);
  return r;
}

int
unlinkat (int dirfd, const char *path, int flags)
{
  int r;

  LOAD (unlinkat);
  r = real_unlinkat (dirfd, path, flags);
  unlinked (dirfd, path, r);
  return r;
}

/* ---------------------------------------------------------------- network */

int
socket (int domain, int type, int protocol)
{
  int fd;
  Slot *s;

  LOAD (socket);
  fd = real_socket (domain, type, protocol);
  if ((s = slot (fd)))
    s->kind = domain == AF_INET || domain == AF_INET6 ? 's' : 'x';
  return fd;
}

ssize_t
send (int fd, const void *buf, size_t len, int flags)
{
  ssize_t n;

  LOAD (send);
  n = real_send (fd, buf, len, flags);
  sent (fd, buf, n);
  return n;
}

ssize_t
sendto (int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
  ssize_t n;

  LOAD (sendto);
  n = real_sendto (fd, buf, len, flags, to, tolen);
  sent (fd, buf, n);
  return n;
}

ssize_t
sendmsg (int fd, const struct msghdr *msg, int flags)
{
  ssize_t n;

  LOAD (sendmsg);
  n = real_sendmsg (fd, msg, flags);
  sent_iov (fd, msg->msg_iov, (int) msg->msg_iovlen, n);
  return n;
}

ssize_t
recv (int fd, void *buf, size_t len, int flags)
{
  ssize_t n;

  LOAD (recv);
  n = real_recv (fd, buf, len, flags);
  if (!(flags & MSG_PEEK))
    received (fd, buf, n);
  return n;
}

ssize_t
recvfrom (int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
  ssize_t n;

  LOAD (recvfrom);
  n = real_recvfrom (fd, buf, len, flags, from, fromlen);
  if (!(flags & MSG_PEEK))
    received (fd, buf, n);
  return n;
}

ssize_t
recvmsg (int fd, struct msghdr *msg, int flags)
{
  ssize_t n;

  LOAD (recvmsg);
  n = real_recvmsg (fd, msg, flags);
  if (n > 0 && !(flags & MSG_PEEK) && msg->msg_iovlen > 0)
    received (fd, msg->msg_iov[0].iov_base, (size_t) n < msg->msg_iov[0].iov_len ? (size_t) n
                                                                                  : msg->msg_iov[0].iov_len);
  return n;
}

ssize_t
read (int fd, void *buf, size_t count)
{
  ssize_t n;

  LOAD (read);
  n = real_read (fd, buf, count);
  if (n > 0 && !busy)
    {
      int saved = errno;
      received (fd, buf, n);
      errno = saved;
    }
  return n;
}

ssize_t
readv (int fd, const struct iovec *iov, int cnt)
{
  ssize_t n;

  LOAD (readv);
  n = real_readv (fd, iov, cnt);
  if (n > 0 && cnt > 0 && !busy)
    {
      int saved = errno;
      received (fd, iov[0].iov_base, (size_t) n < iov[0].iov_len ? (size_t) n : iov[0].iov_len);
      errno = saved;
    }
  return n;
}
