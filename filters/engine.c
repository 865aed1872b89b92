#include "engine.h"

#include "wire.h"

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

struct _MsEngine {
  char *exe;
  MsSieveBackend backend;
  int timeout_s;
  int memory_mib;
  char *log_level;
  GPid pid;
  int to_child;
  int from_child;
  guint served;
};

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

void
ms_engine_set_log_level (MsEngine *e, const char *level)
{
  g_free (e->log_level);
  e->log_level = g_strdup (level);
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
  g_free (e->log_level);
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
      if (e->memory_mib > 0) /* 0 only in test builds: no limit */
        setrlimit (RLIMIT_AS, &mem);
      setrlimit (RLIMIT_CORE, &core);
      if (dup2 (to[0], STDIN_FILENO) < 0 || dup2 (from[1], STDOUT_FILENO) < 0)
        _exit (127);
      execl (e->exe, "mailsift", "filter-worker", "--cpu-seconds", cpu + i,
             e->log_level ? "--log-level" : (char *) NULL, e->log_level, (char *) NULL);
      _exit (127);
    }
  close (to[0]);
  close (from[1]);
  /* requests go out while replies come in (exchange): never block on a
   * full pipe with a reply waiting; and room for a batch's requests
   * (best effort: the default is 64 KiB) */
  fcntl (to[1], F_SETFL, fcntl (to[1], F_GETFL) | O_NONBLOCK);
  fcntl (to[1], F_SETPIPE_SZ, 1024 * 1024);
  fcntl (from[0], F_SETPIPE_SZ, 1024 * 1024);
  e->pid = pid;
  e->to_child = to[1];
  e->from_child = from[0];
  e->served = 0;
  return TRUE;
}

/* ---------------------------------------------------------------- frames */

/* A frame is a 4-byte big-endian length, then a request or a result in
 * the byte format of wire.h.
 * Several frames can be in a pipe at once (the agent sends a batch's
 * requests ahead of the replies), so both ends read through a buffer and
 * take whole frames out of it. */

typedef struct {
  GByteArray *buf;
  gsize start; /* bytes before it were taken */
} FrameReader;

static void
frame_reader_clear (FrameReader *r)
{
  g_clear_pointer (&r->buf, g_byte_array_unref);
  r->start = 0;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FrameReader, frame_reader_clear)

/* A frame is built in one buffer, its length first, so that one write
 * can send it: its 4 length bytes are reserved at @at, the payload
 * appended, then frame_close fills in the length. Several frames can
 * share a buffer. FALSE with @error when the payload is too large: the
 * buffer is cut back to @at. */
static gboolean
frame_close (GByteArray *buf, guint at, const char *what, GError **error)
{
  gsize size = buf->len - at - 4;
  guint32 be = GUINT32_TO_BE ((guint32) size);

  if (size > MS_FRAME_MAX)
    {
      g_byte_array_set_size (buf, at);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "the %s is too large for the filter pipe (%" G_GSIZE_FORMAT " bytes)", what, size);
      return FALSE;
    }
  memcpy (buf->data + at, &be, sizeof be);
  return TRUE;
}

/* One read(2) into @r: the number of bytes, 0 at end of file, -1 with
 * @error. Blocks only when @fd has nothing to read. */
static gssize
frame_reader_fill (FrameReader *r, int fd, GError **error)
{
  gsize room = 64 * 1024;
  gsize old;
  ssize_t n;

  if (r->buf == NULL)
    r->buf = g_byte_array_sized_new (room);
  if (r->start > 0 && r->start == r->buf->len)
    g_byte_array_set_size (r->buf, 0), r->start = 0;
  else if (r->start > r->buf->len / 2)
    g_byte_array_remove_range (r->buf, 0, (guint) r->start), r->start = 0;
  old = r->buf->len;
  g_byte_array_set_size (r->buf, (guint) (old + room));
  do
    n = read (fd, r->buf->data + old, room);
  while (n < 0 && errno == EINTR);
  g_byte_array_set_size (r->buf, (guint) (old + (n > 0 ? (gsize) n : 0)));
  if (n < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "read from the filter pipe: %s",
                   g_strerror (saved));
      return -1;
    }
  return n;
}

/* Whether a whole frame is there to take. */
static gboolean
frame_reader_has_frame (const FrameReader *r)
{
  gsize have = r->buf ? r->buf->len - r->start : 0;
  guint32 be;

  if (have < sizeof be)
    return FALSE;
  memcpy (&be, r->buf->data + r->start, sizeof be);
  return have - sizeof be >= GUINT32_FROM_BE (be);
}

/* The first whole frame in @r, taken out of it: its payload, which
 * stays valid until the next frame_reader_fill; NULL without @error when
 * it is not all there yet. */
static const guint8 *
frame_reader_take (FrameReader *r, gsize *len_out, GError **error)
{
  gsize have = r->buf ? r->buf->len - r->start : 0;
  const guint8 *payload;
  guint32 be;
  gsize size;

  if (have < sizeof be)
    return NULL;
  memcpy (&be, r->buf->data + r->start, sizeof be);
  size = GUINT32_FROM_BE (be);
  if (size > MS_FRAME_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "frame too large");
      return NULL;
    }
  if (have - sizeof be < size)
    return NULL;
  payload = r->buf->data + r->start + sizeof be;
  r->start += sizeof be + size;
  *len_out = size;
  return payload;
}

/* The filter process's end: all of @data, blocking. */
static gboolean
write_all (int fd, const guint8 *data, gsize len, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t w = write (fd, data + done, len - done);

      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "write to the filter pipe: %s",
                       g_strerror (saved));
          return FALSE;
        }
      done += (gsize) w;
    }
  return TRUE;
}

/* A request as a frame (wire.h): mode, backend, script, header, size,
 * envelope, separator, trace, message file, options. */
static GBytes *
request_frame (const MsFilterRequest *r, MsSieveBackend backend, GError **error)
{
  g_autoptr (GByteArray) f = g_byte_array_sized_new (512);
  gsize hlen = 0;
  const void *h = r->header ? g_bytes_get_data (r->header, &hlen) : NULL;

  g_byte_array_set_size (f, 4); /* the length, filled in by frame_close */
  ms_wire_put_u32 (f, r->mode);
  ms_wire_put_u32 (f, backend);
  ms_wire_put_str (f, r->script_path, FALSE);
  ms_wire_put_bytes (f, h, hlen);
  ms_wire_put_u64 (f, r->size);
  ms_wire_put_str (f, r->envelope_from ? r->envelope_from : "", FALSE);
  ms_wire_put_str (f, r->envelope_to ? r->envelope_to : "", FALSE);
  ms_wire_put_str (f, r->subaddress_separator ? r->subaddress_separator : "+", FALSE);
  ms_wire_put_u32 (f, r->trace ? 1 : 0);
  ms_wire_put_str (f, r->message_path, FALSE);
  ms_wire_put_strv (f, (char *const *) r->options, -1, FALSE);
  if (!frame_close (f, 0, "request", error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&f));
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

static MsFilterResult *
failed_result (const char *why)
{
  MsFilterResult *result = ms_filter_result_new ();

  g_ptr_array_add (result->errors, g_strdup (why));
  ms_filter_result_fail (result, why);
  return result;
}

/* Send the frames from *@next on and read their replies, each within
 * the timeout of the one before, writing while the process works: the
 * process takes the requests in order, so the pipe carries requests
 * ahead of it and replies behind it, and a batch costs one wake-up per
 * pipe-full rather than a round trip per message. Frames that are NULL
 * have no request (and no reply). FALSE with @error when the process
 * fails: *@next is then the request it was working on. */
static gboolean
exchange (MsEngine *e, GBytes **frames, guint n, guint *next, MsFilterResult **results, GError **error)
{
  g_auto (FrameReader) reader = { NULL, 0 };
  guint to_send = *next;
  gsize sent = 0;
  gint64 deadline = g_get_monotonic_time () + (gint64) e->timeout_s * G_USEC_PER_SEC;

  for (;;)
    {
      struct pollfd p[2] = { { e->from_child, POLLIN, 0 }, { e->to_child, POLLOUT, 0 } };
      gint64 left;
      int r;

      while (*next < n && frames[*next] == NULL)
        (*next)++;
      while (to_send < n && frames[to_send] == NULL)
        to_send++;
      if (*next >= n)
        return TRUE;
      left = deadline - g_get_monotonic_time ();
      if (left <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
          return FALSE;
        }
      r = poll (p, to_send < n ? 2 : 1, (int) MIN (left / 1000 + 1, G_MAXINT));
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "poll: %s", g_strerror (saved));
          return FALSE;
        }
      if (to_send < n && p[1].revents != 0)
        while (to_send < n)
          {
            /* as many frames as one writev takes */
            struct iovec iov[64];
            int k = 0;
            ssize_t w;

            for (guint i = to_send; i < n && k < (int) G_N_ELEMENTS (iov); i++)
              if (frames[i] != NULL)
                {
                  gsize len;
                  const guint8 *data = g_bytes_get_data (frames[i], &len);
                  gsize skip = k == 0 ? sent : 0;
                  iov[k].iov_base = (void *) (data + skip);
                  iov[k++].iov_len = len - skip;
                }
            w = writev (e->to_child, iov, k);
            if (w < 0 && errno == EINTR)
              continue;
            if (w < 0 && errno == EAGAIN)
              break;
            if (w < 0)
              {
                int saved = errno;
                g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                             "write to the filter pipe: %s", g_strerror (saved));
                return FALSE;
              }
            /* move past what went out */
            while (to_send < n && w > 0)
              {
                gsize rest = g_bytes_get_size (frames[to_send]) - sent;
                if ((gsize) w < rest)
                  {
                    sent += (gsize) w;
                    w = 0;
                    break;
                  }
                w -= (ssize_t) rest;
                sent = 0;
                do
                  to_send++;
                while (to_send < n && frames[to_send] == NULL);
              }
          }
      if (p[0].revents != 0)
        {
          gssize got = frame_reader_fill (&reader, e->from_child, error);
          GError *bad = NULL;
          const guint8 *reply;
          gsize len;

          if (got < 0)
            return FALSE;
          if (got == 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "end of file");
              return FALSE;
            }
          while ((reply = frame_reader_take (&reader, &len, &bad)))
            {
              if (*next >= to_send)
                {
                  /* a reply to a request it has not been sent */
                  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "unexpected reply");
                  return FALSE;
                }
              if ((results[*next] = ms_filter_result_decode (reply, len)) == NULL)
                {
                  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed reply");
                  return FALSE;
                }
              (*next)++;
              e->served++;
              deadline = g_get_monotonic_time () + (gint64) e->timeout_s * G_USEC_PER_SEC;
              while (*next < n && frames[*next] == NULL)
                (*next)++;
            }
          if (bad != NULL)
            {
              g_propagate_error (error, bad);
              return FALSE;
            }
        }
    }
}

/* Why the process failed its request, once it is stopped. */
static char *
describe_failure (MsEngine *e, const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      engine_stop (e, TRUE);
      return e->backend == MS_SIEVE_LIBSIEVE
               ? g_strdup_printf ("Sieve did not finish within %d s (filter_timeout); "
                                  "libsieve's :matches can backtrack for minutes on long headers",
                                  e->timeout_s)
               : g_strdup_printf ("Sieve did not finish within %d s (filter_timeout)", e->timeout_s);
    }
  if (e->pid > 0)
    return describe_status (engine_stop (e, TRUE));
  return g_strdup_printf ("cannot start the filter process %s: %s", e->exe, error->message);
}

void
ms_engine_run_many (MsEngine *e, const MsFilterRequest *const *requests, guint n, MsFilterResult **results)
{
  g_autofree GBytes **frames = g_new0 (GBytes *, n);
  gboolean retried = FALSE;
  guint next = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;

      results[i] = NULL;
      frames[i] = request_frame (requests[i], e->backend, &error);
      if (frames[i] == NULL)
        results[i] = failed_result (error->message);
    }

  while (next < n)
    {
      g_autoptr (GError) error = NULL;
      gboolean was_running;
      guint before;

      if (e->pid > 0
          && e->served >= (e->backend == MS_SIEVE_LIBSIEVE ? MS_ENGINE_MAX_SERVED_LIBSIEVE : MS_ENGINE_MAX_SERVED))
        engine_stop (e, FALSE);
      was_running = e->pid > 0;
      if (!was_running && !engine_start (e, &error))
        {
          g_autofree char *why = describe_failure (e, error);
          for (; next < n; next++)
            if (results[next] == NULL)
              results[next] = failed_result (why);
          break;
        }
      before = next;
      if (exchange (e, frames, n, &next, results, &error))
        break;
      /* A process that died between requests shows up before it has
       * answered anything: start a new one and try once more. */
      if (was_running && next == before && !retried
          && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          retried = TRUE;
          engine_stop (e, TRUE);
          continue;
        }
      {
        g_autofree char *why = describe_failure (e, error);
        results[next++] = failed_result (why);
      }
    }

  for (guint i = 0; i < n; i++)
    {
      MsFilterResult *result = results[i];

      g_clear_pointer (&frames[i], g_bytes_unref);
      prefix_errors (result, requests[i]->script_path);
      if (result->failed && result->errors->len > 0 && result->failure
          && g_ascii_isdigit (result->failure[0]))
        {
          g_free (result->failure);
          result->failure = g_strdup (result->errors->pdata[0]);
        }
      if (requests[i]->mode == MS_FILTER_EXECUTE)
        ms_filter_result_finish (result);
      else if (result->errors->len > 0)
        ms_filter_result_fail (result, result->errors->pdata[0]);
    }
}

MsFilterResult *
ms_engine_run (MsEngine *e, const MsFilterRequest *request)
{
  MsFilterResult *result = NULL;

  ms_engine_run_many (e, &request, 1, &result);
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

/* A request as the filter process reads it (request_frame): the
 * MsFilterRequest and what its pointers point to. */
typedef struct {
  MsFilterRequest r;
  char *script_path, *envelope_from, *envelope_to, *separator, *message_path;
  char **options;
  GBytes *header;
} Request;

static void
request_clear (Request *q)
{
  g_free (q->script_path);
  g_free (q->envelope_from);
  g_free (q->envelope_to);
  g_free (q->separator);
  g_free (q->message_path);
  g_strfreev (q->options);
  g_clear_pointer (&q->header, g_bytes_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Request, request_clear)

static gboolean
request_decode (Request *q, const guint8 *data, gsize len, GError **error)
{
  MsWireReader w;
  const guint8 *header;
  gsize hlen;
  guint32 mode, backend;

  ms_wire_reader_init (&w, data, len, FALSE);
  mode = ms_wire_get_u32 (&w);
  backend = ms_wire_get_u32 (&w);
  q->script_path = ms_wire_get_str (&w);
  header = ms_wire_get_bytes (&w, &hlen);
  q->header = g_bytes_new (header, hlen);
  q->r.size = ms_wire_get_u64 (&w);
  q->envelope_from = ms_wire_get_str (&w);
  q->envelope_to = ms_wire_get_str (&w);
  q->separator = ms_wire_get_str (&w);
  q->r.trace = ms_wire_get_u32 (&w) != 0;
  q->message_path = ms_wire_get_str (&w);
  q->options = ms_wire_get_strv (&w);
  if (!ms_wire_reader_done (&w) || q->script_path == NULL || q->envelope_from == NULL
      || q->envelope_to == NULL || q->separator == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed request");
      return FALSE;
    }
  q->r.mode = mode == MS_FILTER_VALIDATE ? MS_FILTER_VALIDATE : MS_FILTER_EXECUTE;
  q->r.backend = backend == MS_SIEVE_LIBSIEVE ? MS_SIEVE_LIBSIEVE : MS_SIEVE_MAILSIFT;
  q->r.script_path = q->script_path;
  q->r.header = q->header;
  q->r.envelope_from = q->envelope_from;
  q->r.envelope_to = q->envelope_to;
  q->r.subaddress_separator = q->separator;
  q->r.message_path = q->message_path;
  q->r.options = (const char *const *) q->options;
  return TRUE;
}

/* The next request from the agent into @q, waiting for it; FALSE at the
 * end (G_IO_ERROR_CLOSED) or on an error. */
static gboolean
next_request (FrameReader *reader, int fd, Request *q, GError **error)
{
  for (;;)
    {
      GError *bad = NULL;
      gsize len;
      const guint8 *data = frame_reader_take (reader, &len, &bad);
      gssize n;

      if (data != NULL)
        return request_decode (q, data, len, error);
      if (bad != NULL)
        {
          g_propagate_error (error, bad);
          return FALSE;
        }
      n = frame_reader_fill (reader, fd, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          if (reader->buf && reader->buf->len > reader->start)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "end of file inside a request");
          else
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "end of file");
          return FALSE;
        }
    }
}

/* @result as a frame at the end of @out. */
static gboolean
append_result_frame (GByteArray *out, const MsFilterResult *result, GError **error)
{
  guint at = out->len;

  g_byte_array_set_size (out, at + 4);
  ms_filter_result_encode (result, out);
  return frame_close (out, at, "result", error);
}

int
ms_engine_serve (int in_fd, int out_fd, int cpu_seconds, const char *sandbox)
{
  CpuLimit cpu = { FALSE, 0, 0 };
  g_auto (FrameReader) reader = { NULL, 0 };
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gint64 held_since = 0;

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      g_auto (Request) q = { 0 };
      g_autoptr (MsFilterResult) result = NULL;
      guint before = out->len;

      if (!next_request (&reader, in_fd, &q, &error))
        return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ? 0 : 1;
      limit_cpu (&cpu, cpu_seconds);
      result = q.r.backend == MS_SIEVE_LIBSIEVE ? ms_libsieve_run (&q.r) : ms_sieve_run (&q.r);
      /* what a message cost, for --trace (and the memory tests) */
      if (q.r.trace)
        {
          g_ptr_array_add (result->trace, g_strdup_printf ("filter process: peak RSS %" G_GUINT64_FORMAT " KiB",
                                                           peak_rss_kib ()));
          g_ptr_array_add (result->trace, g_strdup_printf ("filter process: sandbox: %s",
                                                           sandbox ? sandbox : "none"));
        }
      if (!append_result_frame (out, result, &error))
        {
          /* too large to send back: a failed result says so */
          g_autoptr (MsFilterResult) failed = failed_result (error->message);
          g_clear_error (&error);
          if (!append_result_frame (out, failed, &error))
            return 1;
        }
      /* Replies to requests that came together go back together: the
       * agent wakes once for them, not once each. Held at most 50 ms,
       * well inside filter_timeout. */
      if (before == 0)
        held_since = g_get_monotonic_time ();
      if (!frame_reader_has_frame (&reader) || out->len >= 256 * 1024
          || g_get_monotonic_time () - held_since > 50 * 1000)
        {
          gboolean ok = write_all (out_fd, out->data, out->len, &error);
          g_byte_array_set_size (out, 0);
          if (!ok)
            return 1;
        }
    }
}
