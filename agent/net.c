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
 * trace of -vv in net-trace.c. */
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

/* ---------------------------------------------------------------- certificates */

/* Lower-case hex SHA-256 of the certificate's DER. */
static char *
cert_sha256_hex (GTlsCertificate *cert)
{
  g_autoptr (GByteArray) der = NULL;

  g_object_get (cert, "certificate", &der, NULL);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

/* "AB:CD:..." */
static char *
cert_fingerprint (GTlsCertificate *cert)
{
  g_autofree char *hex = cert_sha256_hex (cert);
  g_autoptr (GString) out = g_string_sized_new (96);

  for (const char *p = hex; p[0] != '\0' && p[1] != '\0'; p += 2)
    {
      if (out->len > 0)
        g_string_append_c (out, ':');
      g_string_append_c (out, g_ascii_toupper (p[0]));
      g_string_append_c (out, g_ascii_toupper (p[1]));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A configured pin as lower-case hex without separators; NULL unless it is
 * exactly 64 hex digits (colons and blanks allowed between them). */
static char *
pin_normalize (const char *pin)
{
  g_autoptr (GString) hex = g_string_sized_new (64);

  for (const char *p = pin; *p != '\0'; p++)
    {
      if (g_ascii_isxdigit (*p))
        g_string_append_c (hex, g_ascii_tolower (*p));
      else if (*p != ':' && !g_ascii_isspace (*p))
        return NULL;
    }
  if (hex->len != 64)
    return NULL;
  return g_string_free (g_steal_pointer (&hex), FALSE);
}

/* What the accept-certificate handler saw during one handshake. */
typedef struct {
  const char *pin;             /* normalized pin, or NULL */
  GTlsCertificate *cert;       /* the peer's leaf (owned), once seen */
  GTlsCertificateFlags errors; /* what GIO found wrong with it */
  gboolean refused;            /* the handler said no, or the pin did not match */
  gboolean pin_mismatch;
} CertCheck;

/* GIO calls this (in our thread) only when the chain or host name fails
 * a check. A matching pin accepts the certificate anyway; that is the
 * only way a failed check is ever overridden. */
static gboolean
on_accept_certificate (GTlsConnection *tls, GTlsCertificate *cert, GTlsCertificateFlags errors,
                       gpointer user_data)
{
  CertCheck *check = user_data;
  g_autofree char *hex = cert_sha256_hex (cert);

  g_set_object (&check->cert, cert);
  check->errors = errors;
  check->refused = TRUE;
  if (check->pin == NULL)
    return FALSE;
  check->pin_mismatch = strcmp (hex, check->pin) != 0;
  check->refused = check->pin_mismatch;
  return !check->refused;
}

static const struct {
  GTlsCertificateFlags flag;
  const char *what;
} cert_problems[] = {
  { G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown issuer (not signed by a trusted CA)" },
  { G_TLS_CERTIFICATE_BAD_IDENTITY, "wrong host name" },
  { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not yet valid" },
  { G_TLS_CERTIFICATE_EXPIRED, "expired" },
  { G_TLS_CERTIFICATE_REVOKED, "revoked" },
  { G_TLS_CERTIFICATE_INSECURE, "insecure (weak algorithm)" },
  { G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid" },
};

/* "host:port: TLS certificate refused: <checks>; its SHA-256 fingerprint
 * is <fp> (...). If you trust it, set ca_file = ..., or pin_sha256 = <fp>" */
static void
set_cert_error (GError **error, const NetStream *ns, const MsNetOptions *options,
                const CertCheck *check)
{
  g_autofree char *fp = cert_fingerprint (check->cert);
  g_autoptr (GString) why = g_string_new (NULL);
  g_autofree char *against = NULL;

  if (check->pin_mismatch)
    g_string_append_printf (why, "pin mismatch (pin_sha256 = %s)", options->pin_sha256);
  for (guint i = 0; i < G_N_ELEMENTS (cert_problems); i++)
    if (check->errors & cert_problems[i].flag)
      {
        g_string_append (why, why->len > 0 ? ", " : "");
        if (cert_problems[i].flag == G_TLS_CERTIFICATE_BAD_IDENTITY)
          g_string_append_printf (why, "wrong host name (not issued for %s)", options->host);
        else
          g_string_append (why, cert_problems[i].what);
      }
  if (why->len == 0)
    g_string_append (why, "rejected by the TLS library");
  if (options->ca_file != NULL)
    against = g_strdup_printf ("checked against ca_file %s", options->ca_file);
  else
    against = g_strdup ("checked against the system's CA certificates");
  g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT,
               "%s: TLS certificate refused: %s; its SHA-256 fingerprint is %s (%s). "
               "If you trust it, set ca_file = /path/to/ca.pem, or pin_sha256 = %s",
               ns->where, why->str, fp, against, fp);
}

/* Network and non-certificate TLS errors: MS_ERROR_TEMPORARY, except for
 * what retrying cannot fix. */
static void
set_net_error (GError **error, const NetStream *ns, const char *what, const GError *cause)
{
  MsErrorCode code = MS_ERROR_TEMPORARY;
  const char *hint = "";

  /* A plaintext server on a TLS port gives NOT_TLS or, as often, MISC
   * ("unexpected TLS packet"), which can also be a passing glitch. */
  if (g_error_matches (cause, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS)
      || g_error_matches (cause, G_TLS_ERROR, G_TLS_ERROR_MISC))
    hint = " (does the server speak TLS on this port? check port and tls)";
  if (g_error_matches (cause, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS)
      || g_error_matches (cause, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)
      || g_error_matches (cause, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED))
    code = MS_ERROR_ACCOUNT;
  g_set_error (error, MS_ERROR, code, "%s: %s: %s%s", ns->where, what, cause->message, hint);
}

/* Checks every TLS connection needs, before a byte goes out. */
static gboolean
check_tls_options (const MsNetOptions *options, char **pin_out, GError **error)
{
  if (!ms_net_tls_available (error))
    return FALSE;
  if (options->ca_file != NULL && !g_path_is_absolute (options->ca_file))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_CONFIG, "ca_file %s: must be an absolute path",
                   options->ca_file);
      return FALSE;
    }
  *pin_out = NULL;
  if (options->pin_sha256 != NULL && (*pin_out = pin_normalize (options->pin_sha256)) == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_CONFIG,
                   "pin_sha256 = %s: must be 64 hex digits (colons allowed)", options->pin_sha256);
      return FALSE;
    }
  return TRUE;
}

/* Wrap @ns->socket in TLS and handshake; returns the verified connection
 * (transfer full). @ns->io is left alone. */
static GIOStream *
tls_handshake (NetStream *ns, const MsNetOptions *options, const char *pin, GError **error)
{
  g_autoptr (GSocketConnectable) identity = g_network_address_new (options->host, options->port);
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) local = NULL;
  CertCheck check = { .pin = pin };
  gulong handler;
  gboolean ok;

  /* The identity drives SNI and the host-name check; the validation flags
   * stay at their default, every check. */
  if (options->ca_file != NULL)
    {
      g_autoptr (GTlsDatabase) db = g_tls_file_database_new (options->ca_file, &local);
      if (db == NULL)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_CONFIG, "ca_file %s: %s", options->ca_file,
                       local->message);
          return NULL;
        }
      /* handed over at construction, so the backend never loads the
       * system's trust store (about 10 MB) only to have it replaced */
      tls = g_initable_new (g_tls_backend_get_client_connection_type (g_tls_backend_get_default ()),
                            NULL, &local, "base-io-stream", ns->socket, "server-identity", identity,
                            "database", db, NULL);
    }
  else
    tls = g_tls_client_connection_new (G_IO_STREAM (ns->socket), identity, &local);
  if (tls == NULL)
    {
      set_net_error (error, ns, "TLS", local);
      return NULL;
    }

  handler = g_signal_connect (tls, "accept-certificate", G_CALLBACK (on_accept_certificate),
                              &check);
  ok = g_tls_connection_handshake (G_TLS_CONNECTION (tls), ns->cancel, &local);
  g_signal_handler_disconnect (tls, handler);

  /* A chain that verifies never reaches the handler: check the pin here. */
  if (ok && pin != NULL && check.cert == NULL)
    {
      GTlsCertificate *peer = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls));
      g_autofree char *hex = peer != NULL ? cert_sha256_hex (peer) : NULL;

      if (hex == NULL || strcmp (hex, pin) != 0)
        {
          g_set_object (&check.cert, peer);
          check.pin_mismatch = check.refused = TRUE;
          ok = FALSE;
        }
    }

  /* (a pinned certificate may still fail later, e.g. by a timeout) */
  if (!ok && check.refused && check.cert != NULL)
    set_cert_error (error, ns, options, &check);
  else if (!ok && local != NULL)
    set_net_error (error, ns, "TLS handshake", local);
  else if (!ok)
    g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "%s: TLS handshake: no peer certificate",
                 ns->where);
  g_clear_object (&check.cert);
  if (!ok)
    {
      g_io_stream_close (tls, NULL, NULL); /* and the socket under it */
      return NULL;
    }
  return g_steal_pointer (&tls);
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

gboolean
ms_net_tls_available (GError **error)
{
  if (g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    return TRUE;
  g_set_error (error, MS_ERROR, MS_ERROR_CONFIG,
               "TLS is not available: GIO has no TLS backend; install the Debian package "
               "glib-networking");
  return FALSE;
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

/* The one message for bytes that came after the answer to STARTTLS and
 * before the handshake, whichever check saw them (ours or libetpan's). */
static void
set_injection_error (GError **error, const char *where, gsize extra)
{
  g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT,
               "%s: the server sent data before the TLS handshake (%" G_GSIZE_FORMAT " bytes right "
               "after its answer to STARTTLS: possible STARTTLS injection, CVE-2020-15953); "
               "refusing to continue. No password was sent. Something between you and the server "
               "may be tampering with the connection, or the server is broken: do not set "
               "tls = none; use tls = implicit if the server offers it, and tell its administrator",
               where, extra);
}

gboolean
ms_net_starttls_injected (mailstream *stream, GError **error)
{
  NetStream *ns = net_stream_of (stream);
  g_autoptr (GError) local = NULL;

  if (stream == NULL || stream->read_buffer_len == 0)
    return FALSE;
  set_injection_error (&local, ns ? ns->where : "the server", stream->read_buffer_len);
  /* the server expects TLS now: never go on in plaintext (not even LOGOUT) */
  if (ns != NULL)
    net_kill (ns, local);
  g_propagate_error (error, g_steal_pointer (&local));
  return TRUE;
}

gboolean
ms_net_starttls (mailstream *stream, const MsNetOptions *options, GError **error)
{
  NetStream *ns = net_stream_of (stream);
  g_autoptr (GError) local = NULL;
  g_autofree char *pin = NULL;
  GIOStream *tls = NULL;

  g_return_val_if_fail (ns != NULL, FALSE);
  g_return_val_if_fail (options != NULL && options->host != NULL, FALSE);
  g_return_val_if_fail (ns->io == G_IO_STREAM (ns->socket), FALSE); /* not TLS yet */

  /* Bytes already buffered arrived before the handshake, unprotected, and
   * would be read as if they came over TLS (CVE-2020-15953). */
  if (ns->error != NULL)
    g_set_error (&local, MS_ERROR, MS_ERROR_TEMPORARY, "%s: STARTTLS: %s", ns->where,
                 ns->error->message);
  else if (stream->read_buffer_len != 0)
    set_injection_error (&local, ns->where, stream->read_buffer_len);
  else if (check_tls_options (options, &pin, &local))
    tls = tls_handshake (ns, options, pin, &local);

  if (tls == NULL)
    {
      /* The server expects TLS now: never go on in plaintext. */
      net_kill (ns, local);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_object_unref (ns->io);
  ns->io = tls;
  return TRUE;
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

char *
ms_net_peer_fingerprint (mailstream *stream)
{
  NetStream *ns = net_stream_of (stream);
  GTlsCertificate *cert;

  g_return_val_if_fail (ns != NULL, NULL);
  if (!G_IS_TLS_CONNECTION (ns->io))
    return NULL;
  cert = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (ns->io));
  return cert != NULL ? cert_fingerprint (cert) : NULL;
}
