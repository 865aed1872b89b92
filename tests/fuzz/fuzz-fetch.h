/* The fake server behind fuzz-imap and fuzz-pop3: the whole fetch, as
 * `mailsift fetch` runs it (agent/source-*.c, agent/fetch.c, the
 * pipeline, the Maildir and the state), against a server on 127.0.0.1
 * in a thread of this process that answers with the fuzz input.
 *
 * The connection goes through mailsift's own network layer
 * (ms_net_connect, agent/net.c) with its line, response and literal
 * bounds in place, so libetpan's parsers see exactly what they would see
 * from a real server. The server sends the input one piece per command
 * (see fake_serve), then ends its side of the connection (the client
 * reads "the server closed the connection" after the last byte), and
 * reads and drops the client's commands. Any later connection during the same input (POP3 reconnects
 * after a session came out of step) gets nothing.
 *
 * The same input makes the same fetch: the server side depends on the
 * input and the client's commands only; timing decides no more than how
 * the bytes are cut into reads (and, when a piece does not answer a
 * command in full, whether the next one is already there when the
 * client reads; see fake_serve).
 *
 * Each input starts from nothing: a new state database and an empty
 * Maildir (in a private temporary folder, on /dev/shm if there is one),
 * so that what one input delivers does not change what the next one
 * does. No Sieve script: everything is kept, without a filter process. */
#include "engine.h"
#include "config.h"
#include "error.h"
#include "pipeline.h"
#include "source.h"
#include "state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* the most the server sends (the client may stop reading, and a larger
 * input only makes the same lines longer) */
#define FAKE_MAX_INPUT (256 * 1024)

static struct {
  int listen_fd;
  guint16 port;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  const guint8 *data; /* the current input, for the first connection */
  size_t size;
  gboolean served;    /* the first connection of this input came */
  guint busy;         /* connections being served */
} fake = { -1, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, FALSE, 0 };

static char *fake_dir, *fake_maildir, *fake_state_dir;

/* The password: build.sh links the fetch targets with
 * -Wl,--wrap=ms_account_secret, so that the sources get it from here
 * instead of running password_command (a fork of this big process per
 * input would cost more than the rest of the fetch). */
char *__wrap_ms_account_secret (const MsAccount *account, gboolean oauth2, GError **error);

char *
__wrap_ms_account_secret (const MsAccount *account, gboolean oauth2, GError **error)
{
  return g_strdup ("secret");
}
static MsConfig *fake_config;
static char *fake_config_account;

/* The answer to each command: the input is cut at every "\0\0" (the
 * separator itself is not sent). The first piece goes out at once (the
 * greeting), the next one each time the client has sent a line (a
 * command) and the one before is out; a piece that does not answer the
 * client's command in full would leave both sides waiting, so after
 * FAKE_QUIET_MS without a line from the client the next piece goes out
 * anyway. An input without separators is sent all at once. */
#define FAKE_SEPARATOR "\0\0"
#define FAKE_QUIET_MS 5

typedef struct {
  const guint8 *data;
  size_t len;
  size_t off;   /* next byte to send */
  size_t avail; /* end of the piece being sent */
  size_t next;  /* start of the next piece (len: none left) */
} FakePieces;

static void
fake_release (FakePieces *p)
{
  const guint8 *sep = memmem (p->data + p->next, p->len - p->next, FAKE_SEPARATOR, 2);

  p->off = p->next;
  p->avail = sep ? (size_t) (sep - p->data) : p->len;
  p->next = sep ? p->avail + 2 : p->len;
}

/* Send the pieces and then end our side, while reading and dropping
 * whatever the client sends, until it closes. */
static void
fake_serve (int fd, const guint8 *data, size_t len)
{
  FakePieces p = { data ? data : (const guint8 *) "", len, 0, 0, 0 };
  gboolean shut = FALSE;
  guint lines = 0;
  char sink[4096];

  fake_release (&p);
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  /* each piece goes out at once (no Nagle wait for the delayed ACK) */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof (int));
  for (;;)
    {
      gboolean sending = p.off < p.avail;
      struct pollfd pfd = { fd, POLLIN | (sending && !shut ? POLLOUT : 0), 0 };
      int r;

      if (!shut && !sending && p.next == p.len)
        {
          shutdown (fd, SHUT_WR);
          shut = TRUE;
        }
      r = poll (&pfd, 1, shut || sending ? -1 : FAKE_QUIET_MS);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (r == 0)
        {
          fake_release (&p); /* the client waits for more */
          continue;
        }
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t n = recv (fd, sink, sizeof sink, 0);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
          for (ssize_t i = 0; i < n; i++)
            lines += sink[i] == '\n';
        }
      if (sending && !shut && (pfd.revents & POLLOUT))
        {
          ssize_t n = send (fd, p.data + p.off, p.avail - p.off, MSG_NOSIGNAL);
          if (n > 0)
            p.off += (size_t) n;
          else if (n < 0 && errno != EAGAIN && errno != EINTR)
            break;
        }
      while (lines > 0 && p.off == p.avail && p.next < p.len)
        {
          fake_release (&p);
          lines--;
        }
    }
  close (fd);
}

static void *
fake_server (void *unused)
{
  for (;;)
    {
      int fd = accept4 (fake.listen_fd, NULL, NULL, SOCK_CLOEXEC);
      const guint8 *data = NULL;
      size_t size = 0;

      if (fd < 0)
        continue;
      pthread_mutex_lock (&fake.lock);
      if (!fake.served)
        {
          data = fake.data;
          size = fake.size;
          fake.served = TRUE;
        }
      fake.busy++;
      pthread_mutex_unlock (&fake.lock);
      fake_serve (fd, data, size);
      pthread_mutex_lock (&fake.lock);
      fake.busy--;
      pthread_cond_broadcast (&fake.cond);
      pthread_mutex_unlock (&fake.lock);
    }
  return NULL;
}

static int
remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
fake_clear (void)
{
  nftw (fake_maildir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  nftw (fake_state_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fake_cleanup (void)
{
  fake_clear ();
  ms_config_free (fake_config);
  g_free (fake_config_account);
  nftw (fake_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Log nothing (a fetch logs every refusal), but a critical (a failed
 * g_return_if_fail) is a bug: abort. */
static void
fake_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (data != NULL)
    fprintf (stderr, "log: %s\n", message);
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    {
      fprintf (stderr, "%s: %s\n", domain ? domain : "", message);
      abort ();
    }
}

/* Start the server (once) and load the config. @account_text is the
 * [account fuzz] group without host and port; a different one (the unit
 * tests use both protocols) loads the config again. */
static void
fake_init (const char *account_text)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t sl = sizeof sa;
  const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();
  g_autofree char *tmpl = g_build_filename (base, "ms-fuzz-fetch-XXXXXX", NULL);
  g_autofree char *path = NULL, *text = NULL;
  g_autoptr (GError) error = NULL;
  pthread_t thread;

  if (fake_config != NULL)
    {
      if (g_strcmp0 (fake_config_account, account_text) == 0)
        return;
      g_clear_pointer (&fake_config, ms_config_free);
      g_clear_pointer (&fake_config_account, g_free);
      path = g_build_filename (fake_dir, "config", NULL);
      goto load;
    }
  /* FUZZ_VERBOSE=1: show the log and the outcome (to check seeds) */
  g_log_set_default_handler (fake_log, getenv ("FUZZ_VERBOSE") ? (gpointer) "" : NULL);
  fake.listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fake.listen_fd, >=, 0);
  g_assert_cmpint (bind (fake.listen_fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (listen (fake.listen_fd, 16), ==, 0);
  g_assert_cmpint (getsockname (fake.listen_fd, (struct sockaddr *) &sa, &sl), ==, 0);
  fake.port = ntohs (sa.sin_port);
  g_assert_cmpint (pthread_create (&thread, NULL, fake_server, NULL), ==, 0);
  pthread_detach (thread);

  fake_dir = g_mkdtemp (g_steal_pointer (&tmpl));
  g_assert_nonnull (fake_dir);
  fake_maildir = g_build_filename (fake_dir, "Maildir", NULL);
  fake_state_dir = g_build_filename (fake_dir, "state", NULL);
  atexit (fake_cleanup);
  path = g_build_filename (fake_dir, "config", NULL);
load:
  text = g_strdup_printf ("[general]\nmaildir = %s\nstate_dir = %s\n\n[account fuzz]\n"
                          "host = 127.0.0.1\nport = %u\ntls = none\nuser = fuzz\n"
                          "password_command = /bin/echo secret\ntimeout = 10\n%s",
                          fake_maildir, fake_state_dir, fake.port, account_text);
  g_assert_true (g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));
  fake_config = ms_config_load (path, NULL, &error);
  if (fake_config == NULL)
    g_error ("fuzz config: %s", error->message);
  fake_config_account = g_strdup (account_text);
}

/* One whole fetch against @data; for the fuzz targets every outcome but
 * a crash, a sanitizer report, a leak or a hang is fine. FALSE with
 * @error when the fetch failed; @stats_out (if not NULL) gets the
 * counts (its folders field is not kept). */
static G_GNUC_UNUSED gboolean
fake_fetch (const guint8 *data, size_t size, MsFetchStats *stats_out, GError **error_out)
{
  MsAccount *account = g_ptr_array_index (fake_config->accounts, 0);
  const MsSourceOps *ops = ms_source_for (account);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsState) state = NULL;
  g_autoptr (MsEngine) engine = NULL;
  g_autoptr (GHashTable) uidnext = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (MsPipeline) pipeline = { 0 };
  MsFetch f = { 0 };

  fake_clear ();
  pthread_mutex_lock (&fake.lock);
  fake.data = data;
  fake.size = MIN (size, FAKE_MAX_INPUT);
  fake.served = FALSE;
  pthread_mutex_unlock (&fake.lock);

  state = ms_state_open (fake_config->state_dir, &error);
  if (state == NULL)
    g_error ("fuzz state: %s", error->message);
  engine = ms_engine_new ("/nonexistent/mailsift", MS_SIEVE_MAILSIFT, 5, 256);
  pipeline.config = fake_config;
  pipeline.engine = engine;
  pipeline.state = state;
  f.stats.folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f.account = account;
  f.config = fake_config;
  f.uidnext = uidnext;
  f.pipeline = &pipeline;
  f.state = state;
  if (!ms_fetch_run (&f, ops, &error))
    g_assert_nonnull (error);
  else
    g_assert_no_error (error);
  if (getenv ("FUZZ_VERBOSE"))
    fprintf (stderr, "fetch: %u delivered, %u skipped, %u failed, %u total%s%s\n",
             f.stats.messages, f.stats.skipped, f.stats.failed, f.stats.total,
             error ? "; error: " : "", error ? error->message : "");
  g_hash_table_unref (f.stats.folders);
  f.stats.folders = NULL;

  /* the server is done with this input before the next one starts */
  pthread_mutex_lock (&fake.lock);
  while (fake.busy > 0)
    pthread_cond_wait (&fake.cond, &fake.lock);
  fake.data = NULL;
  pthread_mutex_unlock (&fake.lock);
  if (stats_out != NULL)
    {
      *stats_out = f.stats;
      stats_out->folders = NULL;
    }
  if (error != NULL)
    {
      g_propagate_error (error_out, g_steal_pointer (&error));
      return FALSE;
    }
  return TRUE;
}
