#include "engine.h"

#include "sieve-libsieve.h"
#include "sieve-mailsift.h"

#include <gio/gio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fresh filter process after this many messages bounds libsieve's leaks
 * (about 11 KB per message with regexes). mailsift's own engine does not
 * leak (valgrind finds nothing lost, and the process stays at 9 MB over
 * 80,000 messages), and starting the process costs about 20 ms (its
 * libraries), 10 us a message at every 2,000: it is renewed far less
 * often, only to bound what fragmentation could add up to. */
#define MS_ENGINE_MAX_SERVED_LIBSIEVE 2000
#define MS_ENGINE_MAX_SERVED 100000
#define MS_FRAME_MAX (64u * 1024 * 1024)
/* What one read takes of a frame before its size is known (on the
 * stack): a request with a usual header, every usual reply. */
#define MS_FRAME_READ_AHEAD (16u * 1024)
#define REQUEST_TYPE "(uusaytsssbsas)"

struct _MsEngine {
  char *exe;
  MsSieveBackend backend;
  int timeout_s;
  int memory_mib;
  GPid pid;
  int to_child;
  int from_child;
  guint served;
};

gboolean
ms_sieve_backend_from_string (const char *name, MsSieveBackend *out)
{
  if (g_strcmp0 (name, "mailsift") == 0)
    *out = MS_SIEVE_MAILSIFT;
  else if (g_strcmp0 (name, "libsieve") == 0)
    *out = MS_SIEVE_LIBSIEVE;
  else
    return FALSE;
  return TRUE;
}

MsEngine *
ms_engine_new (const char *self_exe, MsSieveBackend backend, int timeout_s, int memory_mib)
{
  MsEngine *e = g_new0 (MsEngine, 1);

  e->exe = g_strdup (self_exe);
  e->backend = backend;
  e->timeout_s = timeout_s;
  e->memory_mib = memory_mib;
  e->pid = 0;
  e->to_child = e->from_child = -1;
  return e;
}

/* Kill (if asked) and reap the child. Returns its wait status. */
static int
engine_stop (MsEngine *e, gboolean kill_it)
{
  int status = 0;

  if (e->to_child >= 0)
    close (e->to_child);
  if (e->from_child >= 0)
    close (e->from_child);
  e->to_child = e->from_child = -1;
  if (e->pid > 0)
    {
      if (kill_it)
        kill (e->pid, SIGKILL);
      while (waitpid (e->pid, &status, 0) < 0 && errno == EINTR)
        ;
    }
  e->pid = 0;
  e->served = 0;
  return status;
}

static MsDuplicateLookup duplicate_lookup;

void
ms_engine_set_duplicate_lookup (MsDuplicateLookup lookup)
{
  duplicate_lookup = lookup;
}

MsDuplicateLookup
ms_engine_get_duplicate_lookup (void)
{
  return duplicate_lookup;
}

const char *
ms_filter_request_option (const MsFilterRequest *r, const char *name)
{
  gsize n = strlen (name);

  for (guint i = 0; r->options && r->options[i]; i++)
    if (strncmp (r->options[i], name, n) == 0 && r->options[i][n] == '=')
      return r->options[i] + n + 1;
  return NULL;
}

MsSieveBackend
ms_engine_get_backend (const MsEngine *e)
{
  return e->backend;
}

void
ms_engine_free (MsEngine *e)
{
  if (e == NULL)
    return;
  engine_stop (e, FALSE); /* closing its stdin ends it */
  g_free (e->exe);
  g_free (e);
}

static gboolean
engine_start (MsEngine *e, GError **error)
{
  int to[2], from[2];
  pid_t pid;

  if (pipe2 (to, O_CLOEXEC) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "pipe: %s",
                         g_strerror (errno));
      return FALSE;
    }
  if (pipe2 (from, O_CLOEXEC) != 0)
    {
      int saved = errno;
      close (to[0]);
      close (to[1]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "pipe: %s", g_strerror (saved));
      return FALSE;
    }
  pid = fork ();
  if (pid < 0)
    {
      int saved = errno;
      close (to[0]), close (to[1]), close (from[0]), close (from[1]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "fork: %s", g_strerror (saved));
      return FALSE;
    }
  if (pid == 0)
    {
      /* child: only async-signal-safe calls until exec */
      struct rlimit mem = { (rlim_t) e->memory_mib << 20, (rlim_t) e->memory_mib << 20 };
      struct rlimit core = { 0, 0 };
      char cpu[16];
      int n = e->timeout_s;
      int i = sizeof cpu - 1;

      cpu[i] = '\0';
      do
        cpu[--i] = '0' + n % 10;
      while ((n /= 10) > 0 && i > 0);
      setrlimit (RLIMIT_AS, &mem);
      setrlimit (RLIMIT_CORE, &core);
      if (dup2 (to[0], STDIN_FILENO) < 0 || dup2 (from[1], STDOUT_FILENO) < 0)
        _exit (127);
      execl (e->exe, "mailsift", "filter-worker", "--cpu-seconds", cpu + i, (char *) NULL);
      _exit (127);
    }
  close (to[0]);
  close (from[1]);
  e->pid = pid;
  e->to_child = to[1];
  e->from_child = from[0];
  e->served = 0;
  return TRUE;
}

/* Write all of @iov (@n pieces), going on after a partial write. */
static gboolean
write_all (int fd, struct iovec *iov, int n, GError **error)
{
  while (n > 0)
    {
      ssize_t w = writev (fd, iov, n);

      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "write to filter: %s",
                       g_strerror (saved));
          return FALSE;
        }
      for (; n > 0 && (gsize) w >= iov->iov_len; iov++, n--)
        w -= (ssize_t) iov->iov_len;
      if (n > 0)
        {
          iov->iov_base = (guint8 *) iov->iov_base + w;
          iov->iov_len -= (gsize) w;
        }
    }
  return TRUE;
}

/* The size and the data in one system call: each costs about a
 * microsecond, and the filter process makes a round trip per message. */
gboolean
ms_engine_write_frame (int fd, GVariant *v, GError **error)
{
  g_autoptr (GVariant) normal = g_variant_get_normal_form (v);
  gsize size = g_variant_get_size (normal);
  guint32 be = GUINT32_TO_BE ((guint32) size);
  struct iovec iov[2] = {
    { &be, sizeof be },
    { (void *) g_variant_get_data (normal), size },
  };

  if (size > MS_FRAME_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "frame too large");
      return FALSE;
    }
  return write_all (fd, iov, 2, error);
}

/* One read of at most @len bytes, waiting until @deadline_us
 * (monotonic; -1 = none): the number read, 0 at end of file, -1 with
 * @error. */
static gssize
read_some (int fd, guint8 *buf, gsize len, gint64 deadline_us, GError **error)
{
  for (;;)
    {
      ssize_t n;

      if (deadline_us >= 0)
        {
          struct pollfd p = { fd, POLLIN, 0 };
          gint64 left = deadline_us - g_get_monotonic_time ();
          int r;

          if (left <= 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
              return -1;
            }
          r = poll (&p, 1, (int) MIN (left / 1000 + 1, G_MAXINT));
          if (r < 0 && errno == EINTR)
            continue;
          if (r == 0)
            continue;
        }
      n = read (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "read: %s", g_strerror (saved));
          return -1;
        }
      return n;
    }
}

/* Read exactly @len bytes before @deadline_us (monotonic; -1 = none). */
static gboolean
read_exact (int fd, guint8 *buf, gsize len, gint64 deadline_us, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      gssize n = read_some (fd, buf + done, len - done, deadline_us, error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "end of file");
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

/* The two ends take turns, a request and then its reply, so whatever is
 * in the pipe belongs to the frame being read: the first read takes what
 * is there, usually the size and all the data at once. More than one
 * frame breaks the protocol. */
GVariant *
ms_engine_read_frame (int fd, const GVariantType *type, gint64 deadline_us, GError **error)
{
  guint8 ahead[MS_FRAME_READ_AHEAD];
  gsize got = 0, size;
  guint32 be;
  guint8 *data;
  GVariant *v;

  while (got < sizeof be)
    {
      gssize n = read_some (fd, ahead + got, sizeof ahead - got, deadline_us, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "end of file");
          return NULL;
        }
      got += (gsize) n;
    }
  memcpy (&be, ahead, sizeof be);
  size = GUINT32_FROM_BE (be);
  if (size > MS_FRAME_MAX || got - sizeof be > size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   size > MS_FRAME_MAX ? "frame too large" : "data after the frame");
      return NULL;
    }
  data = g_malloc (size ? size : 1);
  memcpy (data, ahead + sizeof be, got - sizeof be);
  if (!read_exact (fd, data + (got - sizeof be), size - (got - sizeof be), deadline_us, error))
    {
      g_free (data);
      return NULL;
    }
  v = g_variant_new_from_data (type, data, size, FALSE, g_free, data);
  return g_variant_ref_sink (v);
}

static GVariant *
request_to_variant (const MsFilterRequest *r, MsSieveBackend backend)
{
  GBytes *empty = g_bytes_new_static ("", 0);
  GVariant *header = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING,
                                               r->header ? r->header : empty, TRUE);

  static const char *const none[] = { NULL };
  /* a request per message: built without a format string to parse */
  GVariant *fields[] = {
    g_variant_new_uint32 (r->mode),
    g_variant_new_uint32 (backend),
    g_variant_new_string (r->script_path),
    header,
    g_variant_new_uint64 (r->size),
    g_variant_new_string (r->envelope_from ? r->envelope_from : ""),
    g_variant_new_string (r->envelope_to ? r->envelope_to : ""),
    g_variant_new_string (r->subaddress_separator ? r->subaddress_separator : "+"),
    g_variant_new_boolean (r->trace),
    g_variant_new_string (r->message_path ? r->message_path : ""),
    g_variant_new_strv (r->options ? r->options : none, -1),
  };

  g_bytes_unref (empty);
  return g_variant_new_tuple (fields, G_N_ELEMENTS (fields));
}

static char *
describe_status (int status)
{
  if (WIFSIGNALED (status))
    {
      int sig = WTERMSIG (status);
      if (sig == SIGXCPU)
        return g_strdup ("the filter process ran out of CPU time");
      return g_strdup_printf ("the filter process crashed (signal %d, %s)", sig, g_strsignal (sig));
    }
  if (WIFEXITED (status))
    return g_strdup_printf ("the filter process exited with status %d", WEXITSTATUS (status));
  return g_strdup ("the filter process stopped");
}

/* The script's file name goes in front of "LINE: text" errors. */
static void
prefix_errors (MsFilterResult *result, const char *script_path)
{
  for (guint i = 0; i < result->errors->len; i++)
    {
      char *old = result->errors->pdata[i];
      result->errors->pdata[i] = g_strdup_printf ("%s:%s%s", script_path,
                                                  g_ascii_isdigit (old[0]) ? "" : " ", old);
      g_free (old);
    }
}

MsFilterResult *
ms_engine_run (MsEngine *e, const MsFilterRequest *request)
{
  g_autoptr (GVariant) req = g_variant_ref_sink (request_to_variant (request, e->backend));
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  MsFilterResult *result;

  if (e->pid > 0
      && e->served >= (e->backend == MS_SIEVE_LIBSIEVE ? MS_ENGINE_MAX_SERVED_LIBSIEVE : MS_ENGINE_MAX_SERVED))
    engine_stop (e, FALSE);

  /* A child that died between requests shows up as a failed write:
   * start a new one and try once more. */
  for (int attempt = 0; attempt < 2; attempt++)
    {
      g_clear_error (&error);
      if (e->pid == 0 && !engine_start (e, &error))
        break;
      if (ms_engine_write_frame (e->to_child, req, &error))
        break;
      engine_stop (e, TRUE);
    }
  if (error == NULL)
    {
      gint64 deadline = g_get_monotonic_time () + (gint64) e->timeout_s * G_USEC_PER_SEC;
      reply = ms_engine_read_frame (e->from_child, G_VARIANT_TYPE (MS_FILTER_RESULT_TYPE), deadline, &error);
    }

  if (reply != NULL)
    {
      result = ms_filter_result_from_variant (reply);
      e->served++;
    }
  else
    {
      g_autofree char *why = NULL;
      result = ms_filter_result_new ();
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          engine_stop (e, TRUE);
          why = e->backend == MS_SIEVE_LIBSIEVE
                  ? g_strdup_printf ("Sieve did not finish within %d s (filter_timeout); "
                                     "libsieve's :matches can backtrack for minutes on long headers",
                                     e->timeout_s)
                  : g_strdup_printf ("Sieve did not finish within %d s (filter_timeout)", e->timeout_s);
        }
      else if (e->pid > 0)
        why = describe_status (engine_stop (e, TRUE));
      else
        why = g_strdup_printf ("cannot start the filter process %s: %s", e->exe, error->message);
      g_ptr_array_add (result->errors, g_strdup (why));
      ms_filter_result_fail (result, why);
    }
  prefix_errors (result, request->script_path);
  if (result->failed && result->errors->len > 0 && result->failure && g_ascii_isdigit (result->failure[0]))
    {
      g_free (result->failure);
      result->failure = g_strdup (result->errors->pdata[0]);
    }
  if (request->mode == MS_FILTER_EXECUTE)
    ms_filter_result_finish (result);
  else if (result->errors->len > 0)
    ms_filter_result_fail (result, result->errors->pdata[0]);
  return result;
}

/* ---------------------------------------------------------------- child */

typedef struct {
  gboolean known;
  rlim_t max;   /* the hard limit, which only goes down */
  rlim_t armed; /* the soft limit this process last set */
} CpuLimit;

static void
limit_cpu (CpuLimit *cl, int seconds)
{
  struct rusage ru;
  struct rlimit rl;

  /* RLIMIT_CPU counts the whole process life, so each request moves the
   * soft limit to "what is used now + the allowance". */
  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return;
  if (!cl->known)
    {
      if (getrlimit (RLIMIT_CPU, &rl) != 0)
        return;
      cl->max = rl.rlim_max;
      cl->known = TRUE;
    }
  rl.rlim_max = cl->max;
  rl.rlim_cur = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + seconds + 1;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
    rl.rlim_cur = rl.rlim_max;
  /* messages take microseconds: the limit is mostly the one already set */
  if (rl.rlim_cur != cl->armed && setrlimit (RLIMIT_CPU, &rl) == 0)
    cl->armed = rl.rlim_cur;
}

/* This process's peak resident memory in KiB, 0 when unknown. VmHWM
 * counts this process image only; getrusage's ru_maxrss would include
 * what the agent had when it forked us. */
static guint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      || (line = strstr (status, "\nVmHWM:")) == NULL)
    return 0;
  return g_ascii_strtoull (line + strlen ("\nVmHWM:"), NULL, 10);
}

/* The fields of a request (REQUEST_TYPE), which the MsFilterRequest
 * points into. */
typedef struct {
  GVariant *v[11];
} RequestFields;

static void
request_fields_clear (RequestFields *f)
{
  for (guint i = 0; i < G_N_ELEMENTS (f->v); i++)
    g_clear_pointer (&f->v[i], g_variant_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RequestFields, request_fields_clear)

int
ms_engine_serve (int in_fd, int out_fd, int cpu_seconds)
{
  CpuLimit cpu = { FALSE, 0, 0 };

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) req = ms_engine_read_frame (in_fd, G_VARIANT_TYPE (REQUEST_TYPE), -1, &error);
      g_autoptr (GVariant) header = NULL;
      g_autoptr (GBytes) header_bytes = NULL;
      g_autoptr (MsFilterResult) result = NULL;
      g_autoptr (GVariant) reply = NULL;
      MsFilterRequest r = { 0 };
      guint32 mode, backend;

      if (req == NULL)
        return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ? 0 : 1;
      g_autofree const char **options = NULL;
      g_auto (RequestFields) f = { { NULL } };

      /* the fields one by one: g_variant_get would parse a format string
       * for every message */
      for (guint i = 0; i < G_N_ELEMENTS (f.v); i++)
        f.v[i] = g_variant_get_child_value (req, i);
      mode = g_variant_get_uint32 (f.v[0]);
      backend = g_variant_get_uint32 (f.v[1]);
      r.script_path = g_variant_get_string (f.v[2], NULL);
      header = g_variant_ref (f.v[3]);
      r.size = g_variant_get_uint64 (f.v[4]);
      r.envelope_from = g_variant_get_string (f.v[5], NULL);
      r.envelope_to = g_variant_get_string (f.v[6], NULL);
      r.subaddress_separator = g_variant_get_string (f.v[7], NULL);
      r.trace = g_variant_get_boolean (f.v[8]);
      r.message_path = g_variant_get_string (f.v[9], NULL);
      options = g_variant_get_strv (f.v[10], NULL);
      r.options = options;
      if (*r.message_path == '\0')
        r.message_path = NULL;
      r.mode = mode == MS_FILTER_VALIDATE ? MS_FILTER_VALIDATE : MS_FILTER_EXECUTE;
      r.backend = backend == MS_SIEVE_LIBSIEVE ? MS_SIEVE_LIBSIEVE : MS_SIEVE_MAILSIFT;
      header_bytes = g_variant_get_data_as_bytes (header);
      r.header = header_bytes;

      limit_cpu (&cpu, cpu_seconds);
      result = r.backend == MS_SIEVE_LIBSIEVE ? ms_libsieve_run (&r) : ms_sieve_run (&r);
      /* what a message cost, for --trace (and the memory tests) */
      if (r.trace)
        g_ptr_array_add (result->trace, g_strdup_printf ("filter process: peak RSS %" G_GUINT64_FORMAT " KiB",
                                                         peak_rss_kib ()));
      reply = g_variant_ref_sink (ms_filter_result_to_variant (result));
      if (!ms_engine_write_frame (out_fd, reply, &error))
        return 1;
    }
}
