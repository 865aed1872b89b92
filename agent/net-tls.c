/* mailsift - network streams: TLS (see net.h and net.c).
 *
 * GTlsClientConnection does the handshake over the stream's socket, sends
 * SNI and checks the certificate chain and the host name; here are what
 * is checked before a byte goes out, the handshake itself, pinning
 * (pin_sha256 accepts a certificate the checks refuse), the messages that
 * say which check failed and how to trust the certificate, and STARTTLS
 * with its check for bytes injected before the handshake. */
#include "net-private.h"

#include "error.h"

#include <string.h>

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
void
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
gboolean
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
GIOStream *
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
