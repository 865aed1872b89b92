/* Test shim, loaded with LD_PRELOAD by tests/e2e-deliver.py (a case's
 * "preload" section): link(2) and linkat(2) fail as they do on file
 * systems without hard links, FAT (EPERM) and some FUSE ones (EOPNOTSUPP,
 * ENOSYS). NOLINK_ERRNO picks the error by name; EPERM by default. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int link (const char *oldpath, const char *newpath);
int linkat (int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);

static int
fail (void)
{
  const char *name = getenv ("NOLINK_ERRNO");

  if (name && strcmp (name, "EOPNOTSUPP") == 0)
    errno = EOPNOTSUPP;
  else if (name && strcmp (name, "ENOSYS") == 0)
    errno = ENOSYS;
  else
    errno = EPERM;
  return -1;
}

int
link (const char *oldpath, const char *newpath)
{
  (void) oldpath, (void) newpath;
  return fail ();
}

int
linkat (int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
  (void) olddirfd, (void) oldpath, (void) newdirfd, (void) newpath, (void) flags;
  return fail ();
}
