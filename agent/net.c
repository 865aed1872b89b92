/* mailsift - network streams for libetpan, through GIO (see net.h).
 *
 * libetpan only sees a mailstream_low driver; everything below it is GIO:
 * GSocketClient resolves and connects with a timeout, GTlsClientConnection
 * sends SNI and verifies the chain and the host name during the handshake.
 * The driver's reads and writes block (accounts run in worker threads);
 * the GSocket timeout set by the client bounds each of them.
 *
 * This file holds the driver, connecting and waiting for input; the
 * bounds on what a server may send are in net-bounds.c, the protocol
 * trace of -vv in net-trace.c, and TLS (the handshake, the certificate
 * checks and pinning, STARTTLS) in net-tls.c. */
#include "net-private.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "error.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#define NET_BUFFER_SIZE 8192
#define NET_DEFAULT_TIMEOUT_S 60
#define NET_TLS_RECORD_MAX 16384 /* the most plaintext one TLS record carries */

static void
net_stream_free (NetStream *ns)
{
  /* Unreffing a GIOStream closes it, the TLS layer before the socket. */
  g_clear_object (&ns->io);
  g_clear_object (&ns->socket);
  g_clear_object (&ns->cancel);
  g_clear_error (&ns->error);
  g_free (ns->where);
  g_free (ns->tls_buf);
  if (ns->trace_line)
    g_string_free (ns->trace_line, TRUE);
  if (ns->imap_head)
    g_string_free (ns->imap_head, TRUE);
  g_free (ns);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetStream, net_stream_free)

/* Remember an I/O error (transfer full). Errors are sticky: once a read
 * or write failed, or timed out, libetpan's idea of the protocol state is
 * wrong, so every later read and write fails at once instead of waiting
 * for another timeout (e.g. the QUIT or LOGOUT that *_free() sends). */
static void
net_fail (NetStream *ns, GError *error)
{
  if (ns->error == NULL)
    ns->error = error;
  else
    g_error_free (error);
}

/* Make the stream unusable for good: close the socket (the peer sees the
 * connection drop; nothing more is sent in plaintext) and keep @error
 * (copied) for later reads and writes. */
void
net_kill (NetStream *ns, const GError *error)
{
  g_io_stream_close (ns->io, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (ns->socket), NULL, NULL);
  net_fail (ns, g_error_copy (error));
}

/* ---------------------------------------------------------------- deadline */

static gboolean
past_deadline (NetStream *ns)
{
  return ns->deadline != 0 && g_get_monotonic_time () >= ns->deadline;
}

/* The deadline passed: drop the connection, keep saying why. */
static void
net_deadline (NetStream *ns)
{
  g_autoptr (GError) e = g_error_new (MS_ERROR, MS_ERROR_TEMPORARY,
                                      "%s: the time this fetch may take (fetch_deadline) ran out; "
                                      "connection dropped, the rest is fetched next time", ns->where);
  net_kill (ns, e);
}

/* ---------------------------------------------------------------- driver */

static gssize
net_read_io (NetStream *ns, void *buf, gsize count)
{
  GError *error = NULL;
  gssize n;

  if (ns->deadline != 0)
    {
      /* no read waits beyond the deadline */
      gint64 left = ns->deadline - g_get_monotonic_time ();
      guint secs = left <= 0 ? 1 : (guint) MIN ((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, G_MAXUINT);
      g_socket_set_timeout (g_socket_connection_get_socket (ns->socket), MIN (secs, ns->timeout_s));
    }
  n = g_input_stream_read (g_io_stream_get_input_stream (ns->io), buf, count, ns->cancel, &error);
  if (n < 0 && past_deadline (ns))
    {
      g_error_free (error);
      net_deadline (ns);
      return -1;
    }
  if (n < 0)
    net_fail (ns, error);
  /* The server closed the connection. libetpan 1.9.4 takes a read of 0
   * for "nothing yet" in places (mailstream_read_line_append, the IMAP
   * literal reader) and would spin forever: make it the error it is. */
  if (n == 0 && count > 0)
    {
      net_fail (ns, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                         "the server closed the connection"));
      return -1;
    }
  return n;
}

/* libetpan's conventions: -1 on error (end of stream included, see
 * net_read_io). */
static ssize_t
net_read (mailstream_low *low, void *buf, size_t count)
{
  NetStream *ns = low->data;
  gsize n;

  if (ns->error != NULL)
    return -1;
  if (past_deadline (ns))
    {
      net_deadline (ns);
      return -1;
    }
  if (ns->tls_pos == ns->tls_len)
    {
      gssize got;

      /* One TLS read returns at most one record, all of it if it fits. */
      if (!G_IS_TLS_CONNECTION (ns->io) || count >= NET_TLS_RECORD_MAX)
        {
          got = net_read_io (ns, buf, count);
          return got > 0 && !net_account (ns, buf, got) ? -1 : got;
        }
      if (ns->tls_buf == NULL)
        ns->tls_buf = g_malloc (NET_TLS_RECORD_MAX);
      got = net_read_io (ns, ns->tls_buf, NET_TLS_RECORD_MAX);
      if (got <= 0)
        return got;
      ns->tls_pos = 0;
      ns->tls_len = got;
    }
  n = MIN (count, ns->tls_len - ns->tls_pos);
  memcpy (buf, ns->tls_buf + ns->tls_pos, n);
  ns->tls_pos += n;
  return net_account (ns, buf, n) ? (ssize_t) n : -1;
}

static ssize_t
net_write (mailstream_low *low, const void *buf, size_t count)
{
  NetStream *ns = low->data;
  GError *error = NULL;
  gssize n;

  if (ns->error != NULL)
    return -1;
  if (past_deadline (ns))
    {
      net_deadline (ns);
      return -1;
    }
  /* a command: what the server may answer is counted afresh */
  ns->lines = ns->text = ns->literals = 0;
  if (ns->trace)
    trace_out (ns, buf, count);
  n = g_output_stream_write (g_io_stream_get_output_stream (ns->io), buf, count, ns->cancel,
                             &error);
  if (n < 0)
    net_fail (ns, error);
  return n;
}

static int
net_close (mailstream_low *low)
{
  NetStream *ns = low->data;

  /* With TLS this sends close_notify (bounded by the socket timeout; at
   * once if hard-cancelled). Closing the socket as well releases the fd
   * even if that failed; closing twice is harmless. */
  g_io_stream_close (ns->io, ns->cancel, NULL);
  g_io_stream_close (G_IO_STREAM (ns->socket), NULL, NULL);
  return 0;
}

static int
net_get_fd (mailstream_low *low)
{
  NetStream *ns = low->data;

  return g_socket_get_fd (g_socket_connection_get_socket (ns->socket));
}

/* mailstream_low_free() frees only the identifier and leaves the
 * mailstream_low itself (malloc()ed by mailstream_low_new) to the driver. */
static void
net_free (mailstream_low *low)
{
  net_stream_free (low->data);
  low->data = NULL;
  free (low);
}

/* Thread-safe: may be called from another thread to abort blocked I/O. */
static void
net_cancel (mailstream_low *low)
{
  NetStream *ns = low->data;

  g_cancellable_cancel (ns->cancel);
}

/* No libetpan mailstream_cancel: mailstream_wait_idle() then reports
 * MAILSTREAM_IDLE_ERROR. IDLE waits use ms_net_wait_input() instead. */
static struct mailstream_cancel *
net_get_cancel (mailstream_low *low)
{
  return NULL;
}

/* The peer's chain as it was sent, leaf first, as a carray of MMAPString
 * holding DER (mailstream_certificate_chain_free() frees it); NULL for a
 * plain stream, as libetpan's own drivers do. */
static carray *
net_certificate_chain (mailstream_low *low)
{
  NetStream *ns = low->data;
  GTlsCertificate *cert;
  carray *chain;

  if (!G_IS_TLS_CONNECTION (ns->io))
    return NULL;
  cert = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (ns->io));
  if (cert == NULL)
    return NULL;
  chain = carray_new (4);
  if (chain == NULL)
    g_error ("out of memory");
  for (; cert != NULL; cert = g_tls_certificate_get_issuer (cert))
    {
      g_autoptr (GByteArray) der = NULL;
      MMAPString *s;

      g_object_get (cert, "certificate", &der, NULL);
      s = mmap_string_new_len ((const char *) der->data, der->len);
      if (s == NULL || carray_add (chain, s, NULL) < 0)
        g_error ("out of memory");
    }
  return chain;
}

/* -1 means "not implemented" to libetpan, which then uses its own
 * select()-based idle (unusable here: see net_get_cancel). */
static int
net_idle_unsupported (mailstream_low *low)
{
  return -1;
}

static mailstream_low_driver net_driver = {
  .mailstream_read = net_read,
  .mailstream_write = net_write,
  .mailstream_close = net_close,
  .mailstream_get_fd = net_get_fd,
  .mailstream_free = net_free,
  .mailstream_cancel = net_cancel,
  .mailstream_get_cancel = net_get_cancel,
  .mailstream_get_certificate_chain = net_certificate_chain,
  .mailstream_setup_idle = net_idle_unsupported,
  .mailstream_unsetup_idle = net_idle_unsupported,
  .mailstream_interrupt_idle = net_idle_unsupported,
};

/* The driver data of a stream made here; NULL for any other stream. */
NetStream *
net_stream_of (mailstream *stream)
{
  mailstream_low *low = stream != NULL ? mailstream_get_low (stream) : NULL;

  return low != NULL && low->driver == &net_driver ? low->data : NULL;
}

/* ---------------------------------------------------------------- public */

void
ms_net_options_init (MsNetOptions *o, const char *host, int port, MsTlsMode tls,
                     const char *ca_file, const char *pin_sha256, int timeout_s)
{
  o->host = host;
  o->port = (guint16) port;
  o->tls = tls;
  o->ca_file = ca_file;
  o->pin_sha256 = pin_sha256;
  o->timeout_s = timeout_s;
}

void
ms_net_set_deadline (mailstream *stream, gint64 deadline)
{
  NetStream *ns = net_stream_of (stream);

  g_return_if_fail (ns != NULL);
  ns->deadline = deadline;
  if (deadline == 0)
    g_socket_set_timeout (g_socket_connection_get_socket (ns->socket), ns->timeout_s);
}

const GError *
ms_net_stream_error (mailstream *stream)
{
  NetStream *ns = net_stream_of (stream);

  return ns != NULL ? ns->error : NULL;
}

mailstream *
ms_net_connect (const MsNetOptions *options, GError **error)
{
  g_autoptr (GSocketClient) client = NULL;
  g_autoptr (GSocketConnectable) address = NULL;
  g_autoptr (NetStream) ns = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *pin = NULL;
  mailstream_low *low;
  mailstream *stream;

  g_return_val_if_fail (options != NULL && options->host != NULL, NULL);

  /* Refuse before connecting, so a TLS account never sends plaintext. */
  if (options->tls != MS_TLS_NONE && !check_tls_options (options, &pin, error))
    return NULL;

  ns = g_new0 (NetStream, 1);
  ns->cancel = g_cancellable_new ();
  ns->timeout_s = options->timeout_s ? options->timeout_s : NET_DEFAULT_TIMEOUT_S;
  ms_net_limits_init (&ns->limits, FALSE);
  ns->trace = ms_log_shows (MS_LOG_DEBUG);
  if (ns->trace)
    ns->trace_line = g_string_new (NULL);
  ns->imap_head = g_string_new (NULL);
  ns->where = strchr (options->host, ':') != NULL /* an IPv6 address */
                ? g_strdup_printf ("[%s]:%u", options->host, options->port)
                : g_strdup_printf ("%s:%u", options->host, options->port);

  /* The client's timeout becomes the GSocket's: it bounds connect and
   * every later read and write, the TLS handshake included. No proxy:
   * mail goes straight to the server. */
  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, ns->timeout_s);
  g_socket_client_set_enable_proxy (client, FALSE);
  address = g_network_address_new (options->host, options->port);
  ns->socket = g_socket_client_connect (client, address, ns->cancel, &local);
  if (ns->socket == NULL)
    {
      set_net_error (error, ns, "cannot connect", local);
      return NULL;
    }
  ns->io = g_object_ref (G_IO_STREAM (ns->socket));
  /* Mail protocols are command/reply: libetpan writes a command (or the
   * end of DATA) in small pieces and then waits. Nagle would hold the
   * last piece back until the server's delayed ACK, 40 ms a round trip. */
  g_socket_set_option (g_socket_connection_get_socket (ns->socket), IPPROTO_TCP, TCP_NODELAY, 1, NULL);

  if (options->tls == MS_TLS_IMPLICIT)
    {
      GIOStream *tls = tls_handshake (ns, options, pin, error);
      if (tls == NULL)
        return NULL;
      g_object_unref (ns->io);
      ns->io = tls;
    }

  low = mailstream_low_new (ns, &net_driver);
  if (low == NULL)
    g_error ("out of memory");
  g_steal_pointer (&ns);
  stream = mailstream_new (low, NET_BUFFER_SIZE);
  if (stream == NULL)
    g_error ("out of memory");
  return stream;
}

typedef enum { WAIT_PENDING, WAIT_INPUT, WAIT_NONE } WaitResult;

static gboolean
on_wait_input (GObject *pollable, gpointer data)
{
  *(WaitResult *) data = WAIT_INPUT;
  return G_SOURCE_CONTINUE;
}

static gboolean
on_wait_timeout (gpointer data)
{
  *(WaitResult *) data = WAIT_NONE;
  return G_SOURCE_CONTINUE;
}

/* Runs in the cancelling thread: wake the waiter, which then looks at the
 * cancellables itself. Not a GCancellableSource: in GLib 2.74 one that is
 * destroyed while another thread is still inside g_cancellable_cancel()
 * leaks (valgrind saw it), and g_cancellable_disconnect() below waits for
 * this handler instead. */
static void
on_wait_cancelled (GCancellable *cancellable, gpointer ctx)
{
  g_main_context_wakeup (ctx);
}

gboolean
ms_net_wait_input (mailstream *stream, int timeout_ms, GCancellable *stop)
{
  NetStream *ns = net_stream_of (stream);
  g_autoptr (GMainContext) ctx = NULL;
  g_autoptr (GSource) readable = NULL;
  g_autoptr (GSource) timeout = NULL;
  GInputStream *in;
  GPollableInputStream *input;
  WaitResult result = WAIT_PENDING;
  gulong stop_id = 0, cancel_id;
  GSocket *sock;
  guint sock_timeout;

  g_return_val_if_fail (ns != NULL, FALSE);

  /* Bytes in libetpan's buffer or ours never show up on the socket again.
   * A failed stream "has input": the next read reports the error. */
  if (stream->read_buffer_len > 0 || ns->tls_pos < ns->tls_len || ns->error != NULL)
    return TRUE;
  if (g_cancellable_is_cancelled (stop))
    return FALSE;
  in = g_io_stream_get_input_stream (ns->io);
  if (!G_IS_POLLABLE_INPUT_STREAM (in)
      || !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in)))
    return TRUE; /* cannot tell: let the (timed) read decide */
  input = G_POLLABLE_INPUT_STREAM (in);
  /* For TLS this checks the socket (see NetStream.tls_buf). */
  if (g_pollable_input_stream_is_readable (input))
    return TRUE;
  if (timeout_ms == 0)
    return FALSE;

  /* A private context, so this is safe in any worker thread. A hard
   * cancel wakes us as "input": the read that follows fails at once.
   * The socket's read timeout does not apply to the wait: a source made
   * with it set fires when it runs out and leaves the socket failing
   * every later read with "timed out". */
  ctx = g_main_context_new ();
  sock = g_socket_connection_get_socket (ns->socket);
  sock_timeout = g_socket_get_timeout (sock);
  g_socket_set_timeout (sock, 0);
  readable = g_pollable_input_stream_create_source (input, NULL);
  g_socket_set_timeout (sock, sock_timeout);
  g_source_set_callback (readable, G_SOURCE_FUNC (on_wait_input), &result, NULL);
  g_source_attach (readable, ctx);
  if (timeout_ms > 0)
    {
      timeout = g_timeout_source_new (timeout_ms);
      g_source_set_callback (timeout, on_wait_timeout, &result, NULL);
      g_source_attach (timeout, ctx);
    }
  cancel_id = g_cancellable_connect (ns->cancel, G_CALLBACK (on_wait_cancelled), ctx, NULL);
  if (stop != NULL)
    stop_id = g_cancellable_connect (stop, G_CALLBACK (on_wait_cancelled), ctx, NULL);
  while (result == WAIT_PENDING)
    {
      if (g_cancellable_is_cancelled (ns->cancel))
        result = WAIT_INPUT;
      else if (g_cancellable_is_cancelled (stop))
        result = WAIT_NONE;
      else
        g_main_context_iteration (ctx, TRUE);
    }
  g_cancellable_disconnect (ns->cancel, cancel_id);
  if (stop != NULL)
    g_cancellable_disconnect (stop, stop_id);
  g_source_destroy (readable);
  if (timeout != NULL)
    g_source_destroy (timeout);
  return result == WAIT_INPUT;
}
