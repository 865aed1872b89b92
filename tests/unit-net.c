/* Unit tests: GIO network streams for libetpan (agent/net.c, net-tls.c,
 * net-bounds.c), against servers in threads on 127.0.0.1 with throwaway
 * certificates that the openssl CLI makes at start-up: a CA, a server
 * certificate for localhost and 127.0.0.1, one for mail.test only, an
 * expired one, one not yet valid, and a self-signed one. */
#include "error.h"
#include "net.h"

#include <glib/gstdio.h>
#include <string.h>

static char *certs;     /* temporary directory, NULL if openssl is missing */
static char *ca_pem;    /* absolute path of the CA certificate */
static gboolean have_tls;

/* ---------------------------------------------------------------- certificates */

static char *
cert_path (const char *name)
{
  return g_build_filename (certs, name, NULL);
}

/* Run openssl with the NULL-terminated arguments; its stdout (transfer full). */
static char *
openssl (const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status;
  va_list ap;

  g_ptr_array_add (argv, (char *) "openssl");
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (certs, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL,
                               NULL, &out, &err, &status, &error));
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("openssl %s: %s\n%s", first, error->message, err);
  return out;
}

#define OPENSSL(...) g_free (openssl (__VA_ARGS__, NULL))
#define EC_KEY "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"

static void
make_certs (void)
{
  g_autofree char *cnf = NULL;
  g_autofree char *text = NULL;
  g_autofree char *index = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *openssl_path = g_find_program_in_path ("openssl");

  if (openssl_path == NULL)
    return;
  certs = g_dir_make_tmp ("ms-net-XXXXXX", NULL);
  g_assert_nonnull (certs);
  cnf = cert_path ("openssl.cnf");
  index = cert_path ("index.txt");
  serial = cert_path ("serial");
  ca_pem = cert_path ("ca.pem");
  text = g_strdup_printf ("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
                          "[ca_ext]\nbasicConstraints = critical, CA:TRUE\n"
                          "keyUsage = critical, keyCertSign, cRLSign\n"
                          "subjectKeyIdentifier = hash\n"
                          "[server_ext]\nbasicConstraints = critical, CA:FALSE\n"
                          "keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n"
                          "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
                          "[other_ext]\nbasicConstraints = critical, CA:FALSE\n"
                          "keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n"
                          "subjectAltName = DNS:mail.test\n"
                          "[ca]\ndefault_ca = test_ca\n"
                          "[test_ca]\ndatabase = %s\nnew_certs_dir = %s\nserial = %s\n"
                          "default_md = sha256\npolicy = any\nunique_subject = no\n"
                          "[any]\ncommonName = supplied\n",
                          index, certs, serial);
  g_assert_true (g_file_set_contents (cnf, text, -1, NULL));
  g_assert_true (g_file_set_contents (index, "", -1, NULL));
  g_assert_true (g_file_set_contents (serial, "1000\n", -1, NULL));

#define SIGN(csr, out, ext, ...)                                                                   \
  OPENSSL ("ca", "-batch", "-notext", "-config", cnf, "-cert", "ca.pem", "-keyfile", "ca.key",     \
           "-extensions", ext, "-in", csr, "-out", out, __VA_ARGS__)
  OPENSSL ("req", "-x509", "-new", EC_KEY, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
           "-subj", "/CN=mailsift test CA", "-config", cnf, "-extensions", "ca_ext");
  OPENSSL ("req", "-new", EC_KEY, "-keyout", "server.key", "-out", "server.csr", "-subj",
           "/CN=localhost", "-config", cnf);
  SIGN ("server.csr", "server.pem", "server_ext", "-days", "30");
  SIGN ("server.csr", "expired.pem", "server_ext", "-startdate", "20200101000000Z", "-enddate",
        "20200201000000Z");
  SIGN ("server.csr", "notyet.pem", "server_ext", "-startdate", "20990101000000Z", "-enddate",
        "20991231000000Z");
  OPENSSL ("req", "-new", EC_KEY, "-keyout", "other.key", "-out", "other.csr", "-subj",
           "/CN=mail.test", "-config", cnf);
  SIGN ("other.csr", "other.pem", "other_ext", "-days", "30");
  OPENSSL ("req", "-x509", "-new", EC_KEY, "-keyout", "self.key", "-out", "self.pem", "-days",
           "30", "-subj", "/CN=localhost", "-config", cnf, "-extensions", "server_ext");
#undef SIGN

  /* the leaf followed by its issuer, for a server that sends its chain */
  {
    g_autofree char *leaf = NULL, *ca = NULL, *both = NULL, *leaf_path = cert_path ("server.pem");
    g_autofree char *chain_path = cert_path ("server-chain.pem");

    g_assert_true (g_file_get_contents (leaf_path, &leaf, NULL, NULL));
    g_assert_true (g_file_get_contents (ca_pem, &ca, NULL, NULL));
    both = g_strconcat (leaf, ca, NULL);
    g_assert_true (g_file_set_contents (chain_path, both, -1, NULL));
  }
}

static void
remove_certs (void)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (certs == NULL)
    return;
  dir = g_dir_open (certs, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = cert_path (name);
      g_unlink (path);
    }
  g_rmdir (certs);
}

/* "AB:CD:...", as openssl (not the code under test) computes it. */
static char *
fingerprint_of (const char *pem)
{
  g_autofree char *out = openssl ("x509", "-noout", "-fingerprint", "-sha256", "-in", pem, NULL);
  const char *eq = strchr (out, '=');

  g_assert_nonnull (eq);
  return g_strstrip (g_strdup (eq + 1));
}

/* TLS tests need the GIO TLS backend and openssl; say so when skipping. */
static gboolean
tls_ready (void)
{
  if (!have_tls)
    g_test_skip ("GIO has no TLS backend: install the Debian package glib-networking");
  else if (certs == NULL)
    g_test_skip ("the openssl command is missing; it makes the test certificates");
  return have_tls && certs != NULL;
}

/* ---------------------------------------------------------------- server */

/* Bytes in the reply to "BIG", CRLF included: over TLS, one full record
 * and one of 11000 bytes, more than libetpan reads at once (8192). */
#define BIG_REPLY (16384 + 11000)

typedef enum {
  SERVE_PLAIN,    /* greeting, then answer lines */
  SERVE_TLS,      /* TLS handshake, greeting, answer lines */
  SERVE_STARTTLS, /* plain greeting; on STLS "+OK", TLS, then as SERVE_TLS */
  SERVE_INJECT,   /* as SERVE_STARTTLS, but "+OK" comes with an injected line */
  SERVE_SILENT,   /* accept and say nothing */
} ServeMode;

typedef struct {
  ServeMode mode;
  gboolean no_greeting;  /* after the TLS handshake (POP3 sends none after STLS) */
  GTlsCertificate *cert; /* for the TLS modes */
  GSocketListener *listener;
  GCancellable *stop;
  guint16 port;
  GThread *thread;
  gboolean handshake_done; /* the server completed a TLS handshake */
} Server;

static gboolean
say (GIOStream *io, const char *text)
{
  return g_output_stream_write_all (g_io_stream_get_output_stream (io), text, strlen (text), NULL,
                                    NULL, NULL);
}

/* A line without CRLF, read a byte at a time so nothing after it is
 * consumed (the TLS handshake follows STLS). */
static gboolean
hear (GIOStream *io, char *line, gsize size)
{
  GInputStream *in = g_io_stream_get_input_stream (io);
  gsize n = 0;
  char c;

  while (g_input_stream_read (in, &c, 1, NULL, NULL) == 1)
    {
      if (c == '\n')
        {
          line[n > 0 && line[n - 1] == '\r' ? n - 1 : n] = '\0';
          return TRUE;
        }
      if (n + 1 < size)
        line[n++] = c;
    }
  return FALSE;
}

static gpointer
serve (gpointer data)
{
  Server *srv = data;
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GIOStream) io = NULL;
  g_autoptr (GIOStream) tls = NULL;
  char line[512];

  conn = g_socket_listener_accept (srv->listener, NULL, srv->stop, NULL);
  if (conn == NULL)
    return NULL;
  g_socket_set_timeout (g_socket_connection_get_socket (conn), 10);
  io = g_object_ref (G_IO_STREAM (conn));
  switch (srv->mode)
    {
    case SERVE_SILENT:
      while (g_input_stream_read (g_io_stream_get_input_stream (io), line, sizeof line, NULL,
                                  NULL) > 0)
        ;
      return NULL;
    case SERVE_STARTTLS:
    case SERVE_INJECT:
      if (!say (io, "+OK plain\r\n") || !hear (io, line, sizeof line) || strcmp (line, "STLS") != 0)
        return NULL;
      /* one write, so the injected line arrives with the "+OK" */
      if (!say (io, srv->mode == SERVE_INJECT ? "+OK\r\n+OK injected\r\n" : "+OK\r\n"))
        return NULL;
      /* fall through */
    case SERVE_TLS:
      tls = g_tls_server_connection_new (io, srv->cert, NULL);
      if (tls == NULL || !g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, NULL))
        return NULL;
      srv->handshake_done = TRUE;
      g_set_object (&io, tls);
      if (srv->no_greeting)
        break;
      /* fall through */
    case SERVE_PLAIN:
      if (!say (io, "+OK ready\r\n"))
        return NULL;
      break;
    }
  while (hear (io, line, sizeof line))
    {
      g_autofree char *reply = NULL;

      if (strcmp (line, "TWO") == 0)
        reply = g_strdup ("+OK one\r\n+OK two\r\n"); /* one write: both lines at once */
      else if (strcmp (line, "BIG") == 0)
        {
          reply = g_malloc (BIG_REPLY + 1);
          memset (reply, 'x', BIG_REPLY);
          memcpy (reply, "+OK ", 4);
          memcpy (reply + BIG_REPLY - 2, "\r\n", 3);
        }
      else
        reply = g_strdup_printf ("+OK %s\r\n", line);
      if (!say (io, reply) || strcmp (line, "QUIT") == 0)
        break;
    }
  g_io_stream_close (io, NULL, NULL);
  return NULL;
}

/* A one-connection server on 127.0.0.1; @pem/@key from the certificate
 * directory for the TLS modes. */
static Server *
server_start (ServeMode mode, const char *pem, const char *key)
{
  Server *srv = g_new0 (Server, 1);
  g_autoptr (GSocketAddress) want = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) got = NULL;
  g_autoptr (GError) error = NULL;

  srv->mode = mode;
  srv->stop = g_cancellable_new ();
  srv->listener = g_socket_listener_new ();
  g_assert_true (g_socket_listener_add_address (srv->listener, want, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &got, &error));
  g_assert_no_error (error);
  srv->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
  if (pem != NULL)
    {
      g_autofree char *pem_path = cert_path (pem);
      g_autofree char *key_path = cert_path (key);

      srv->cert = g_tls_certificate_new_from_files (pem_path, key_path, &error);
      g_assert_no_error (error);
    }
  srv->thread = g_thread_new ("server", serve, srv);
  return srv;
}

/* Wait for the server (it stops waiting for a connection if none came);
 * whether it completed a TLS handshake. */
static gboolean
server_finish (Server *srv)
{
  gboolean handshake_done;

  g_cancellable_cancel (srv->stop);
  g_thread_join (srv->thread);
  g_socket_listener_close (srv->listener);
  g_object_unref (srv->listener);
  g_object_unref (srv->stop);
  g_clear_object (&srv->cert);
  handshake_done = srv->handshake_done;
  g_free (srv);
  return handshake_done;
}

/* ---------------------------------------------------------------- client helpers */

static MsNetOptions
options_for (const Server *srv, MsTlsMode tls)
{
  return (MsNetOptions) { .host = "127.0.0.1", .port = srv->port, .tls = tls, .timeout_s = 10 };
}

static char *
read_line (mailstream *stream)
{
  MMAPString *buf = mmap_string_new ("");
  char *line = g_strdup (mailstream_read_line_remove_eol (stream, buf));

  mmap_string_free (buf);
  return line;
}

static gboolean
send_line (mailstream *stream, const char *line)
{
  return mailstream_write (stream, line, strlen (line)) >= 0
         && mailstream_write (stream, "\r\n", 2) >= 0 && mailstream_flush (stream) == 0;
}

static void
assert_line (mailstream *stream, const char *want)
{
  g_autofree char *line = read_line (stream);

  g_assert_cmpstr (line, ==, want);
}

/* Connect with @options to a server of @mode showing @pem; expect failure
 * and return the message after checking the code (-1: any code). */
static char *
connect_refused (ServeMode mode, const char *pem, const char *key, MsNetOptions *options,
                 int code)
{
  Server *srv = server_start (mode, pem, key);
  g_autoptr (GError) error = NULL;
  mailstream *stream;

  options->port = srv->port;
  stream = ms_net_connect (options, &error);
  g_assert_null (stream);
  g_assert_nonnull (error);
  g_assert_true (error->domain == MS_ERROR);
  if (code >= 0)
    g_assert_cmpint (error->code, ==, code);
  server_finish (srv);
  return g_strdup (error->message);
}

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("\"%s\" not in \"%s\"", needle, haystack);
}

/* ---------------------------------------------------------------- tests */

static GBytes *
der_of (const char *pem)
{
  g_autofree char *path = cert_path (pem);
  g_autoptr (GTlsCertificate) cert = g_tls_certificate_new_from_file (path, NULL);
  g_autoptr (GByteArray) der = NULL;

  g_assert_nonnull (cert);
  g_object_get (cert, "certificate", &der, NULL);
  return g_bytes_new (der->data, der->len);
}

static void
assert_chain_element (carray *chain, guint i, GBytes *want)
{
  MMAPString *s = carray_get (chain, i);

  g_assert_cmpmem (s->str, s->len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}

/* Verified with ca_file, by address and by name; the server sends only its
 * certificate, or it and its issuer: libetpan's chain has them leaf first. */
static void
test_tls_ca_file (void)
{
  const char *hosts[] = { "127.0.0.1", "localhost" };
  const char *pems[] = { "server.pem", "server-chain.pem" };
  g_autofree char *want_fp = NULL;
  g_autoptr (GBytes) leaf_der = NULL;
  g_autoptr (GBytes) ca_der = NULL;

  if (!tls_ready ())
    return;
  want_fp = fingerprint_of ("server.pem");
  leaf_der = der_of ("server.pem");
  ca_der = der_of ("ca.pem");
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      Server *srv = server_start (SERVE_TLS, pems[i], "server.key");
      MsNetOptions o = options_for (srv, MS_TLS_IMPLICIT);
      g_autoptr (GError) error = NULL;
      g_autofree char *fp = NULL;
      mailstream *stream;
      carray *chain;

      o.host = hosts[i];
      o.ca_file = ca_pem;
      stream = ms_net_connect (&o, &error);
      g_assert_no_error (error);
      g_assert_nonnull (stream);
      assert_line (stream, "+OK ready");
      g_assert_true (send_line (stream, "HELLO over TLS"));
      assert_line (stream, "+OK HELLO over TLS");

      fp = ms_net_peer_fingerprint (stream);
      g_assert_cmpstr (fp, ==, want_fp);
      chain = mailstream_get_certificate_chain (stream);
      g_assert_nonnull (chain);
      g_assert_cmpuint (carray_count (chain), ==, i + 1);
      assert_chain_element (chain, 0, leaf_der);
      if (i == 1)
        assert_chain_element (chain, 1, ca_der);
      mailstream_certificate_chain_free (chain);

      g_assert_true (send_line (stream, "QUIT"));
      assert_line (stream, "+OK QUIT");
      mailstream_close (stream);
      g_assert_true (server_finish (srv));
    }
}

static void
test_tls_unknown_issuer (void)
{
  const char *pems[][2] = { { "server.pem", "server.key" }, { "self.pem", "self.key" } };

  if (!tls_ready ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (pems); i++)
    {
      MsNetOptions o = { .host = "127.0.0.1", .tls = MS_TLS_IMPLICIT, .timeout_s = 10 };
      g_autofree char *fp = fingerprint_of (pems[i][0]);
      g_autofree char *msg = connect_refused (SERVE_TLS, pems[i][0], pems[i][1], &o,
                                              MS_ERROR_ACCOUNT);
      g_autofree char *where = g_strdup_printf ("127.0.0.1:%u", o.port);
      g_autofree char *pin_hint = g_strdup_printf ("pin_sha256 = %s", fp);

      g_test_message ("%s", msg);
      assert_contains (msg, where);
      assert_contains (msg, "unknown issuer");
      assert_contains (msg, "system");
      assert_contains (msg, "set ca_file = /path/to/ca.pem");
      assert_contains (msg, pin_hint);
      g_assert_null (strstr (msg, "host name"));
    }
}

static void
test_tls_wrong_host (void)
{
  const char *hosts[] = { "127.0.0.1", "localhost" };

  if (!tls_ready ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      MsNetOptions o = { .host = hosts[i], .tls = MS_TLS_IMPLICIT, .ca_file = ca_pem,
                         .timeout_s = 10 };
      g_autofree char *fp = fingerprint_of ("other.pem");
      g_autofree char *msg = connect_refused (SERVE_TLS, "other.pem", "other.key", &o,
                                              MS_ERROR_ACCOUNT);
      g_autofree char *why = g_strdup_printf ("wrong host name (not issued for %s)", hosts[i]);

      g_test_message ("%s", msg);
      assert_contains (msg, why);
      assert_contains (msg, fp);
      assert_contains (msg, ca_pem);
      g_assert_null (strstr (msg, "unknown issuer"));
      g_assert_null (strstr (msg, "expired"));
    }
}

static void
test_tls_dates (void)
{
  const char *cases[][2] = { { "expired.pem", "expired" }, { "notyet.pem", "not yet valid" } };

  if (!tls_ready ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MsNetOptions o = { .host = "localhost", .tls = MS_TLS_IMPLICIT, .ca_file = ca_pem,
                         .timeout_s = 10 };
      g_autofree char *msg = connect_refused (SERVE_TLS, cases[i][0], "server.key", &o,
                                              MS_ERROR_ACCOUNT);
      g_autofree char *fp = fingerprint_of (cases[i][0]);

      g_test_message ("%s", msg);
      assert_contains (msg, cases[i][1]);
      assert_contains (msg, fp);
      g_assert_null (strstr (msg, "unknown issuer"));
    }
}

/* The pin as printed, and lower-case without colons. */
static void
test_tls_pin_accepted (void)
{
  struct { const char *pem, *key, *ca; gboolean lower; } cases[] = {
    { "server.pem", "server.key", NULL, FALSE },  /* issuer unknown: pin overrides */
    { "self.pem", "self.key", NULL, TRUE },       /* self-signed */
    { "other.pem", "other.key", NULL, FALSE },    /* wrong name and unknown issuer */
    { "server.pem", "server.key", "ca", TRUE },   /* chain valid and pin right */
  };

  if (!tls_ready ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Server *srv = server_start (SERVE_TLS, cases[i].pem, cases[i].key);
      MsNetOptions o = options_for (srv, MS_TLS_IMPLICIT);
      g_autofree char *fp = fingerprint_of (cases[i].pem);
      g_autoptr (GError) error = NULL;
      g_autofree char *peer = NULL;
      g_autofree char *pin = NULL;
      mailstream *stream;

      if (cases[i].lower)
        {
          g_autofree char *lower = g_ascii_strdown (fp, -1);
          g_auto (GStrv) parts = g_strsplit (lower, ":", -1);
          pin = g_strjoinv ("", parts);
        }
      else
        pin = g_strdup (fp);
      o.pin_sha256 = pin;
      o.ca_file = cases[i].ca ? ca_pem : NULL;
      stream = ms_net_connect (&o, &error);
      g_assert_no_error (error);
      assert_line (stream, "+OK ready");
      peer = ms_net_peer_fingerprint (stream);
      g_assert_cmpstr (peer, ==, fp);
      mailstream_close (stream);
      server_finish (srv);
    }
}

static void
test_tls_pin_wrong (void)
{
  g_autofree char *self_fp = NULL;
  g_autofree char *server_fp = NULL;
  const char *cas[] = { NULL, "ca" };

  if (!tls_ready ())
    return;
  self_fp = fingerprint_of ("self.pem");
  server_fp = fingerprint_of ("server.pem");
  for (guint i = 0; i < G_N_ELEMENTS (cas); i++)
    {
      /* with the CA, the chain is valid: the wrong pin must still fail */
      MsNetOptions o = { .host = "localhost", .tls = MS_TLS_IMPLICIT, .timeout_s = 10,
                         .pin_sha256 = self_fp, .ca_file = cas[i] ? ca_pem : NULL };
      g_autofree char *msg = connect_refused (SERVE_TLS, "server.pem", "server.key", &o,
                                              MS_ERROR_ACCOUNT);

      g_test_message ("%s", msg);
      assert_contains (msg, "pin mismatch");
      assert_contains (msg, server_fp);
      if (cas[i] == NULL)
        assert_contains (msg, "unknown issuer");
      else
        g_assert_null (strstr (msg, "unknown issuer"));
    }
}

static void
test_tls_bad_options (void)
{
  MsNetOptions o = { .host = "127.0.0.1", .port = 9, .tls = MS_TLS_IMPLICIT, .timeout_s = 10 };
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *msg = NULL;

  if (!tls_ready ())
    return;
  /* refused before connecting: nothing listens on port 9 */
  o.ca_file = "relative/ca.pem";
  g_assert_null (ms_net_connect (&o, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
  g_clear_error (&error);
  o.ca_file = NULL;
  o.pin_sha256 = "AB:CD";
  g_assert_null (ms_net_connect (&o, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
  g_clear_error (&error);
  o.pin_sha256 = NULL;

  missing = cert_path ("no-such-ca.pem");
  o.ca_file = missing;
  msg = connect_refused (SERVE_TLS, "server.pem", "server.key", &o, MS_ERROR_CONFIG);
  assert_contains (msg, missing);
}

/* Implicit TLS to a plaintext server fails; nothing falls back. */
static void
test_tls_to_plain_server (void)
{
  MsNetOptions o = { .host = "127.0.0.1", .tls = MS_TLS_IMPLICIT, .timeout_s = 10 };
  g_autofree char *msg = NULL;

  if (!tls_ready ())
    return;
  o.ca_file = ca_pem;
  /* GnuTLS reports NOT_TLS (MS_ERROR_ACCOUNT) or an unexpected packet
   * (G_TLS_ERROR_MISC, MS_ERROR_TEMPORARY), depending on what it read */
  msg = connect_refused (SERVE_PLAIN, NULL, NULL, &o, -1);
  g_test_message ("%s", msg);
  assert_contains (msg, "does the server speak TLS on this port?");
}

static void
test_starttls_upgrade (void)
{
  Server *srv;
  MsNetOptions o;
  g_autoptr (GError) error = NULL;
  g_autofree char *fp = NULL;
  g_autofree char *plain_fp = NULL;
  mailstream *stream;

  if (!tls_ready ())
    return;
  srv = server_start (SERVE_STARTTLS, "server.pem", "server.key");
  o = options_for (srv, MS_TLS_STARTTLS);
  o.host = "localhost";
  o.ca_file = ca_pem;
  stream = ms_net_connect (&o, &error);
  g_assert_no_error (error);
  assert_line (stream, "+OK plain");
  plain_fp = ms_net_peer_fingerprint (stream);
  g_assert_null (plain_fp);
  g_assert_null (mailstream_get_certificate_chain (stream));
  g_assert_true (send_line (stream, "STLS"));
  assert_line (stream, "+OK");
  g_assert_true (ms_net_starttls (stream, &o, &error));
  g_assert_no_error (error);
  /* the same mailstream, now over TLS */
  assert_line (stream, "+OK ready");
  fp = ms_net_peer_fingerprint (stream);
  g_assert_nonnull (fp);
  g_assert_true (send_line (stream, "QUIT"));
  assert_line (stream, "+OK QUIT");
  mailstream_close (stream);
  g_assert_true (server_finish (srv));
}

/* The same through libetpan's POP3 code, as source-pop3 uses it. */
static void
test_starttls_pop3 (void)
{
  Server *srv;
  MsNetOptions o;
  g_autoptr (GError) error = NULL;
  mailstream *stream;
  mailpop3 *pop3;

  if (!tls_ready ())
    return;
  srv = server_start (SERVE_STARTTLS, "server.pem", "server.key");
  srv->no_greeting = TRUE;
  o = options_for (srv, MS_TLS_STARTTLS);
  o.ca_file = ca_pem;
  stream = ms_net_connect (&o, &error);
  g_assert_no_error (error);
  pop3 = mailpop3_new (0, NULL);
  g_assert_cmpint (mailpop3_connect (pop3, stream), ==, MAILPOP3_NO_ERROR);
  g_assert_cmpint (mailpop3_stls (pop3), ==, MAILPOP3_NO_ERROR);
  g_assert_true (ms_net_starttls (pop3->pop3_stream, &o, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mailpop3_user (pop3, "alice"), ==, MAILPOP3_NO_ERROR);
  g_assert_cmpstr (pop3->pop3_response, ==, "USER alice"); /* the server's echo, over TLS */
  g_assert_cmpint (mailpop3_quit (pop3), ==, MAILPOP3_NO_ERROR);
  mailpop3_free (pop3);
  server_finish (srv);
}

/* STARTTLS verifies like implicit TLS, and a refused upgrade leaves a
 * dead stream: nothing more goes out in plaintext. */
static void
test_starttls_refused (void)
{
  Server *srv;
  MsNetOptions o;
  g_autoptr (GError) error = NULL;
  mailstream *stream;
  mailpop3 *pop3;
  gint64 start;

  if (!tls_ready ())
    return;
  srv = server_start (SERVE_STARTTLS, "server.pem", "server.key");
  o = options_for (srv, MS_TLS_STARTTLS); /* system trust: unknown issuer */
  stream = ms_net_connect (&o, &error);
  g_assert_no_error (error);
  pop3 = mailpop3_new (0, NULL);
  g_assert_cmpint (mailpop3_connect (pop3, stream), ==, MAILPOP3_NO_ERROR);
  g_assert_cmpint (mailpop3_stls (pop3), ==, MAILPOP3_NO_ERROR);
  g_assert_false (ms_net_starttls (pop3->pop3_stream, &o, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_ACCOUNT);
  assert_contains (error->message, "unknown issuer");
  assert_contains (error->message, "ca_file");

  start = g_get_monotonic_time ();
  g_assert_cmpint (mailpop3_user (pop3, "alice"), ==, MAILPOP3_ERROR_STREAM);
  g_assert_cmpint (mailstream_write (pop3->pop3_stream, "X\r\n", 3), ==, 3); /* buffered */
  g_assert_cmpint (mailstream_flush (pop3->pop3_stream), ==, -1);
  /* close without QUIT, as after any failed verification */
  mailstream_close (pop3->pop3_stream);
  pop3->pop3_stream = NULL;
  mailpop3_free (pop3);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  server_finish (srv);
}

static void
test_starttls_injection (void)
{
  Server *srv;
  MsNetOptions o;
  g_autoptr (GError) error = NULL;
  mailstream *stream;

  if (!tls_ready ())
    return;
  srv = server_start (SERVE_INJECT, "server.pem", "server.key");
  o = options_for (srv, MS_TLS_STARTTLS);
  o.ca_file = ca_pem;
  stream = ms_net_connect (&o, &error);
  g_assert_no_error (error);
  assert_line (stream, "+OK plain");
  g_assert_true (send_line (stream, "STLS"));
  assert_line (stream, "+OK");
  g_assert_cmpuint (stream->read_buffer_len, ==, strlen ("+OK injected\r\n"));
  g_assert_false (ms_net_starttls (stream, &o, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_ACCOUNT);
  g_test_message ("%s", error->message);
  assert_contains (error->message, "the server sent data before the TLS handshake (14 bytes right "
                   "after its answer to STARTTLS: possible STARTTLS injection");
  assert_contains (error->message, "refusing to continue");
  /* dead: the next write fails instead of going out in plaintext */
  g_assert_cmpint (mailstream_write (stream, "QUIT\r\n", 6), ==, 6);
  g_assert_cmpint (mailstream_flush (stream), ==, -1);
  mailstream_close (stream);
  g_assert_false (server_finish (srv)); /* no TLS after the injection */
}

/* libetpan's own check refused STARTTLS first: ms_net_starttls_injected
 * says why, in the same words, and closes the stream for good. */
static void
test_starttls_injected (void)
{
  Server *srv;
  MsNetOptions o;
  g_autoptr (GError) error = NULL;
  mailstream *stream;

  if (!tls_ready ())
    return;
  srv = server_start (SERVE_INJECT, "server.pem", "server.key");
  o = options_for (srv, MS_TLS_STARTTLS);
  o.ca_file = ca_pem;
  stream = ms_net_connect (&o, &error);
  g_assert_no_error (error);
  assert_line (stream, "+OK plain");
  g_assert_false (ms_net_starttls_injected (stream, &error)); /* nothing buffered yet */
  g_assert_no_error (error);
  g_assert_true (send_line (stream, "STLS"));
  assert_line (stream, "+OK");
  g_assert_true (ms_net_starttls_injected (stream, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_ACCOUNT);
  assert_contains (error->message, "the server sent data before the TLS handshake (14 bytes");
  assert_contains (error->message, "possible STARTTLS injection");
  g_assert_cmpint (mailstream_write (stream, "QUIT\r\n", 6), ==, 6);
  g_assert_cmpint (mailstream_flush (stream), ==, -1);
  mailstream_close (stream);
  g_assert_false (server_finish (srv));
}

static guint16
unused_port (void)
{
  g_autoptr (GSocketListener) l = g_socket_listener_new ();
  g_autoptr (GSocketAddress) want = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) got = NULL;

  g_assert_true (g_socket_listener_add_address (l, want, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &got, NULL));
  g_socket_listener_close (l);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
}

static void
test_refused (void)
{
  MsTlsMode modes[] = { MS_TLS_NONE, MS_TLS_IMPLICIT };

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      MsNetOptions o = { .host = "127.0.0.1", .port = unused_port (), .tls = modes[i],
                         .timeout_s = 5 };
      g_autoptr (GError) error = NULL;
      g_autofree char *where = g_strdup_printf ("127.0.0.1:%u", o.port);

      if (modes[i] != MS_TLS_NONE && !have_tls)
        continue;
      g_assert_null (ms_net_connect (&o, &error));
      g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
      g_test_message ("%s", error->message);
      assert_contains (error->message, where);
    }
}

/* A server that never answers: the greeting read, the TLS handshake, and
 * a read after the handshake each give up after timeout_s. The clock runs
 * from connect for the first two; for the third it starts after the
 * handshake, which gets 3 s since it alone can take a second under
 * valgrind. */
static void
test_timeout (void)
{
  const struct { ServeMode mode; MsTlsMode tls; guint timeout_s; } steps[] = {
    { SERVE_SILENT, MS_TLS_NONE, 1 },     /* plain: no greeting */
    { SERVE_SILENT, MS_TLS_IMPLICIT, 1 }, /* no TLS handshake */
    { SERVE_TLS, MS_TLS_IMPLICIT, 3 },    /* handshake, then nothing */
  };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      Server *srv;
      MsNetOptions o;
      g_autoptr (GError) error = NULL;
      g_autofree char *line = NULL;
      mailstream *stream;
      gint64 start, took;

      if (steps[i].tls != MS_TLS_NONE && !tls_ready ())
        return;
      if (steps[i].mode == SERVE_TLS)
        srv = server_start (SERVE_TLS, "server.pem", "server.key");
      else
        srv = server_start (SERVE_SILENT, NULL, NULL);
      srv->no_greeting = TRUE;
      o = options_for (srv, steps[i].tls);
      o.ca_file = ca_pem;
      o.timeout_s = steps[i].timeout_s;
      start = g_get_monotonic_time ();
      stream = ms_net_connect (&o, &error);
      if (steps[i].mode == SERVE_SILENT && steps[i].tls == MS_TLS_IMPLICIT)
        {
          g_assert_null (stream);
          g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
          g_test_message ("%s", error->message);
        }
      else
        {
          g_assert_no_error (error);
          start = g_get_monotonic_time ();
          line = read_line (stream);
          g_assert_null (line);
          /* the error sticks: no second wait for the QUIT */
          g_assert_cmpint (mailstream_write (stream, "QUIT\r\n", 6), ==, 6);
          g_assert_cmpint (mailstream_flush (stream), ==, -1);
          g_assert_true (ms_net_wait_input (stream, 0, NULL)); /* the read will fail */
          mailstream_close (stream);
        }
      took = g_get_monotonic_time () - start;
      g_test_message ("step %u gave up after %.2f s", i, took / 1e6);
      g_assert_cmpint (took, >=, steps[i].timeout_s * G_USEC_PER_SEC * 9 / 10);
      g_assert_cmpint (took, <, (steps[i].timeout_s + 4) * G_USEC_PER_SEC);
      server_finish (srv);
    }
}

static gpointer
cancel_later (gpointer cancellable)
{
  g_usleep (G_USEC_PER_SEC / 5);
  g_cancellable_cancel (cancellable);
  return NULL;
}

static void
wait_input_on (gboolean use_tls)
{
  Server *srv;
  MsNetOptions o;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) stop = g_cancellable_new ();
  g_autofree char *line = NULL;
  GThread *canceller;
  mailstream *stream;
  gint64 start, took;
  char big[8192];
  gssize n = 0;

  if (use_tls)
    srv = server_start (SERVE_TLS, "server.pem", "server.key");
  else
    srv = server_start (SERVE_PLAIN, NULL, NULL);
  o = options_for (srv, use_tls ? MS_TLS_IMPLICIT : MS_TLS_NONE);
  o.ca_file = ca_pem;
  stream = ms_net_connect (&o, &error);
  g_assert_no_error (error);

  /* the greeting is pending (on the socket, or inside the TLS layer) */
  g_assert_true (ms_net_wait_input (stream, 5000, NULL));
  assert_line (stream, "+OK ready");

  /* nothing pending: FALSE at once, or after the timeout */
  g_assert_false (ms_net_wait_input (stream, 0, NULL));
  start = g_get_monotonic_time ();
  g_assert_false (ms_net_wait_input (stream, 300, NULL));
  took = g_get_monotonic_time () - start;
  g_assert_cmpint (took, >=, 250 * 1000);
  g_assert_cmpint (took, <, 3 * G_USEC_PER_SEC);

  /* two lines in one packet: the second waits in libetpan's buffer, where
   * a poll() on the socket would not see it */
  g_assert_true (send_line (stream, "TWO"));
  g_assert_true (ms_net_wait_input (stream, 5000, NULL));
  assert_line (stream, "+OK one");
  g_assert_cmpuint (stream->read_buffer_len, >, 0);
  g_assert_true (ms_net_wait_input (stream, 0, NULL));
  assert_line (stream, "+OK two");
  g_assert_false (ms_net_wait_input (stream, 0, NULL));

  /* data that arrived but is not in libetpan's buffer counts too, even
   * with no time to wait */
  g_assert_true (send_line (stream, "NOOP"));
  g_assert_true (ms_net_wait_input (stream, 5000, NULL));
  g_assert_true (ms_net_wait_input (stream, 0, NULL));
  assert_line (stream, "+OK NOOP");

  /* a reply bigger than libetpan's reads: every part of it is seen as
   * pending, on the socket or decrypted already (a TLS record is bigger
   * than libetpan's 8192-byte reads); a wait that should return at once
   * but sleeps fails here after 2 s */
  g_assert_true (send_line (stream, "BIG"));
  for (gsize got = 0; got < BIG_REPLY;)
    {
      g_assert_true (ms_net_wait_input (stream, 2000, NULL));
      n = mailstream_read (stream, big, MIN (sizeof big, BIG_REPLY - got));
      g_assert_cmpint (n, >, 0);
      got += n;
    }
  g_assert_cmpmem (big + n - 3, 3, "x\r\n", 3);
  g_assert_cmpuint (stream->read_buffer_len, ==, 0);
  g_assert_false (ms_net_wait_input (stream, 0, NULL));

  /* the stop cancellable ends a wait without a timeout */
  canceller = g_thread_new ("cancel", cancel_later, stop);
  start = g_get_monotonic_time ();
  g_assert_false (ms_net_wait_input (stream, -1, stop));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_thread_join (canceller);
  g_assert_false (ms_net_wait_input (stream, -1, stop)); /* already stopped */

  /* still usable after a soft stop */
  g_assert_true (send_line (stream, "NOOP"));
  assert_line (stream, "+OK NOOP");

  /* a hard cancel wakes the waiter, and the read then fails */
  mailstream_cancel (stream);
  g_assert_true (ms_net_wait_input (stream, -1, NULL));
  line = read_line (stream);
  g_assert_null (line);
  mailstream_close (stream);
  server_finish (srv);
}

/* An IDLE wait may last longer than the read timeout: the timeout must
 * neither end the wait early nor leave the socket failing afterwards. */
static void
test_wait_outlasts_timeout (void)
{
  Server *srv = server_start (SERVE_PLAIN, NULL, NULL);
  MsNetOptions o = options_for (srv, MS_TLS_NONE);
  g_autoptr (GError) error = NULL;
  mailstream *stream;
  gint64 start;

  o.timeout_s = 1;
  stream = ms_net_connect (&o, &error);
  g_assert_no_error (error);
  assert_line (stream, "+OK ready");
  start = g_get_monotonic_time ();
  g_assert_false (ms_net_wait_input (stream, 2500, NULL));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2400 * 1000);
  g_assert_true (send_line (stream, "NOOP"));
  assert_line (stream, "+OK NOOP");
  mailstream_close (stream);
  server_finish (srv);
}

static void
test_wait_input_plain (void)
{
  wait_input_on (FALSE);
}

static void
test_wait_input_tls (void)
{
  if (tls_ready ())
    wait_input_on (TRUE);
}

static void
test_plain_has_no_fingerprint (void)
{
  Server *srv = server_start (SERVE_PLAIN, NULL, NULL);
  MsNetOptions o = options_for (srv, MS_TLS_NONE);
  g_autoptr (GError) error = NULL;
  g_autofree char *fp = NULL;
  mailstream *stream = ms_net_connect (&o, &error);

  g_assert_no_error (error);
  assert_line (stream, "+OK ready");
  fp = ms_net_peer_fingerprint (stream);
  g_assert_null (fp);
  g_assert_cmpint (mailstream_low_get_fd (mailstream_get_low (stream)), >=, 0);
  g_assert_true (send_line (stream, "QUIT"));
  assert_line (stream, "+OK QUIT");
  mailstream_close (stream);
  server_finish (srv);
}

/* Without a TLS backend: a clear message, and no connection at all. Runs
 * in a child process, where GIO_USE_TLS=dummy picks GIO's dummy backend. */
static void
test_no_tls_backend (void)
{
  if (g_test_subprocess ())
    {
      MsNetOptions o = { .host = "127.0.0.1", .port = 9, .tls = MS_TLS_STARTTLS };
      g_autoptr (GError) error = NULL;

      g_setenv ("GIO_USE_TLS", "dummy", TRUE);
      g_assert_false (ms_net_tls_available (&error));
      g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
      assert_contains (error->message, "glib-networking");
      g_clear_error (&error);
      g_assert_null (ms_net_connect (&o, &error));
      g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
      assert_contains (error->message, "glib-networking");
      return;
    }
  if (have_tls)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (ms_net_tls_available (&error));
      g_assert_no_error (error);
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Lines libetpan 1.9.4 would crash on are told apart from the lines
 * real servers send. */
static void
test_imap_unsafe (void)
{
  static const char *safe[] = {
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n",
    "* OK The Microsoft Exchange IMAP4 service is ready. \"quoted\" text after no code\r\n",
    "* OK [ALERT] a \"quote\" after the code\r\n",
    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted.\r\n",
    "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n",
    "* ok [permanentflags (\\*)] x\r\n",
    "* OK [PERMANENTFLAGS (Junk)]\r\n",
    "* CAPABILITY IMAP4rev1 IDLE\r\n",
  };
  /* (not greetings: those may not hold a literal in a response code) */
  static const char *safe_fetch[] = {
    "* 1 FETCH (UID 10 BODY[] {172}\r\n",
    "* 1 FETCH (UID 10 BODY[]<0> {172}\r\n",
    "* 1 FETCH (UID 10 BODY[HEADER] {72}\r\n",
    "* 1 FETCH (UID 7 BODY[HEADER.FIELDS (MESSAGE-ID)] {40}\r\n",
    "* 1 FETCH (UID 7 BODY[HEADER.FIELDS.NOT (\"X-A\" Subject)] {40}\r\n",
    "* 1 FETCH (BODY[1.2.MIME] {10}\r\n",
    "* 1 FETCH (BODY[2.TEXT] {10}\r\n",
  };
  static const char *bad_greeting[] = {
    "* OK [BADCHARSET (\"UTF-8\")] ready\r\n",
    "* PREAUTH [X {3}\r\n",
  };
  static const char *bad_always[] = {
    "* OK [PERMANENTFLAGS (\x01] x\r\n",
    "* OK [PERMANENTFLAGS (] x\r\n",
    "* OK [PERMANENTFLAGS (\\ \\Seen)] x\r\n",
    "A1 OK [PERMANENTFLAGS (\\Seen",
    "* OK [PERMANENTFLAGS (\"x\")] x\r\n",
    "* OK [PERMANENTFLAGS (\\*x)] x\r\n",
    "+ [BADCHARSET (\"UTF-8\")] idling\r\n",
    "* CAPABILITY\r\n",
    "* capability \n",
    "* 1 FETCH (UID 12 BODY[HEADER\xa3\xdf\x84\xc6" "2}\r\n",
    "* 1 FETCH (UID 12 BODY[HEADERX] {2}\r\n",
    "* 1 FETCH (UID 12 BODY[HEADER.FIELDS ()] {2}\r\n",
    "* 1 FETCH (UID 12 BODY[0] {2}\r\n",
    "* 1 FETCH (UID 12 BODY[1. {2}\r\n",
    "* OK [CAPABILITY] next\r\n",
    "2 OK [capability  ] done\r\n",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (safe); i++)
    {
      g_assert_null (ms_net_imap_unsafe (safe[i], strlen (safe[i]), TRUE));
      g_assert_null (ms_net_imap_unsafe (safe[i], strlen (safe[i]), FALSE));
    }
  for (i = 0; i < G_N_ELEMENTS (safe_fetch); i++)
    g_assert_null (ms_net_imap_unsafe (safe_fetch[i], strlen (safe_fetch[i]), FALSE));
  for (i = 0; i < G_N_ELEMENTS (bad_greeting); i++)
    {
      g_assert_nonnull (ms_net_imap_unsafe (bad_greeting[i], strlen (bad_greeting[i]), TRUE));
      g_assert_null (ms_net_imap_unsafe (bad_greeting[i], strlen (bad_greeting[i]), FALSE));
    }
  for (i = 0; i < G_N_ELEMENTS (bad_always); i++)
    g_assert_nonnull (ms_net_imap_unsafe (bad_always[i], strlen (bad_always[i]), FALSE));
  /* a cut-off line is judged on what is there */
  g_assert_nonnull (ms_net_imap_unsafe ("* OK [PERMANENTFLAGS (\\Se", 25, FALSE));
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!g_test_subprocess ())
    {
      have_tls = g_tls_backend_supports_tls (g_tls_backend_get_default ());
      make_certs ();
    }
  g_test_add_func ("/net/tls/ca-file", test_tls_ca_file);
  g_test_add_func ("/net/tls/unknown-issuer", test_tls_unknown_issuer);
  g_test_add_func ("/net/tls/wrong-host", test_tls_wrong_host);
  g_test_add_func ("/net/tls/expired-and-not-yet-valid", test_tls_dates);
  g_test_add_func ("/net/tls/pin-accepted", test_tls_pin_accepted);
  g_test_add_func ("/net/tls/pin-wrong", test_tls_pin_wrong);
  g_test_add_func ("/net/tls/bad-options", test_tls_bad_options);
  g_test_add_func ("/net/tls/plain-server", test_tls_to_plain_server);
  g_test_add_func ("/net/tls/no-backend", test_no_tls_backend);
  g_test_add_func ("/net/starttls/upgrade", test_starttls_upgrade);
  g_test_add_func ("/net/starttls/pop3", test_starttls_pop3);
  g_test_add_func ("/net/starttls/refused", test_starttls_refused);
  g_test_add_func ("/net/starttls/injection", test_starttls_injection);
  g_test_add_func ("/net/starttls/injected", test_starttls_injected);
  g_test_add_func ("/net/plain/no-fingerprint", test_plain_has_no_fingerprint);
  g_test_add_func ("/net/refused", test_refused);
  g_test_add_func ("/net/imap-unsafe", test_imap_unsafe);
  g_test_add_func ("/net/timeout", test_timeout);
  g_test_add_func ("/net/wait-input/plain", test_wait_input_plain);
  g_test_add_func ("/net/wait-input/outlasts-timeout", test_wait_outlasts_timeout);
  g_test_add_func ("/net/wait-input/tls", test_wait_input_tls);
  status = g_test_run ();
  remove_certs ();
  g_free (certs);
  g_free (ca_pem);
  return status;
}
