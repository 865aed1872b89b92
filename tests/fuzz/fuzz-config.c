/* Fuzz target for the config loader (agent/config.c, values parsed by
 * agent/config-keys.c) on arbitrary key files. Not built by make;
 * tests/fuzz/build.sh builds it (see there for how to run it).
 *
 * Input: the config file. It is written to a file of mode 0600 in a
 * private temporary folder (the loader refuses a file others may read)
 * and loaded with every problem collected, as `mailsift check` does.
 * Checked: a config comes back exactly when no problem was found, and
 * otherwise the first problem is the error; every account and smarthost
 * has a name and a port. */
#include "config.h"
#include "error.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static char *dir;
static char *path;

static void
cleanup (void)
{
  g_unlink (path);
  g_rmdir (dir);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) config = NULL;
  int fd;

  if (dir == NULL)
    {
      dir = g_dir_make_tmp ("ms-fuzz-config-XXXXXX", NULL);
      g_assert_nonnull (dir);
      path = g_build_filename (dir, "config", NULL);
      atexit (cleanup);
    }
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, data, size), ==, (ssize_t) size);
  close (fd);

  config = ms_config_load (path, problems, &error);
  if (config == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == MS_ERROR);
      g_assert_cmpuint (problems->len, >, 0);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);
  for (guint i = 0; i < config->accounts->len; i++)
    {
      const MsAccount *a = g_ptr_array_index (config->accounts, i);

      g_assert_nonnull (a->name);
      g_assert_true (ms_config_find_account (config, a->name) == a);
      g_assert_cmpint (ms_account_port (a), >, 0);
    }
  for (guint i = 0; i < config->smtp->len; i++)
    {
      const MsSmtpHost *h = g_ptr_array_index (config->smtp, i);

      g_assert_nonnull (h->name);
      g_assert_cmpint (ms_smtp_host_port (h), >, 0);
    }
  return 0;
}
