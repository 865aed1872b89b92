/* mailsift - network streams for libetpan, through GIO.
 *
 * libetpan verifies no TLS certificate and sends no SNI (see the libetpan
 * notes), so it never does TLS here: this module is a libetpan
 * mailstream_low driver whose reads and writes go through a GIO
 * GSocketConnection or GTlsClientConnection. GIO resolves, connects with a
 * timeout, sends SNI, and verifies the certificate chain and the host name
 * during the handshake, so a peer that fails verification never gets a
 * byte to libetpan's parser. */
#pragma once

#include "config.h" /* MsTlsMode */

#include <gio/gio.h>
#include <libetpan/libetpan.h>

typedef struct {
  const char *host;       /* name or address; also the identity checked */
  guint16 port;
  MsTlsMode tls;
  const char *ca_file;    /* NULL: system trust; else trust only this CA file (absolute path) */
  const char *pin_sha256; /* NULL, or the leaf certificate's SHA-256 (hex, colons allowed):
                           * then the chain need not verify, but the pin must match */
  guint timeout_s;        /* connect and every read/write; 0 = 60 s */
} MsNetOptions;

/* Fill @options from configuration values. The strings are borrowed. */
void ms_net_options_init (MsNetOptions *options, const char *host, int port, MsTlsMode tls,
                          const char *ca_file, const char *pin_sha256, int timeout_s);

/* Fail with a clear message when GIO has no TLS backend (Debian package
 * glib-networking missing). */
gboolean ms_net_tls_available (GError **error);

/* Connect; with MS_TLS_IMPLICIT also handshake and verify. Returns a
 * libetpan stream (transfer full; mailstream_close() frees it).
 * Errors: MS_ERROR_TEMPORARY for network trouble (refused, timeout,
 * unreachable), MS_ERROR_ACCOUNT for a certificate that fails a check; the
 * message says which check failed, the certificate's SHA-256 fingerprint
 * and how to trust it (ca_file or pin_sha256). */
mailstream *ms_net_connect (const MsNetOptions *options, GError **error);

/* After the server accepted STARTTLS/STLS: refuse if any byte is already
 * buffered (response injection, CVE-2020-15953), then wrap the same
 * socket in TLS, handshake and verify as above. */
gboolean ms_net_starttls (mailstream *stream, const MsNetOptions *options, GError **error);

/* After libetpan refused STARTTLS/STLS: whether it did so because the
 * server sent bytes after its answer, before the TLS handshake (response
 * injection; Debian's libetpan 1.9.4 checks this itself and returns
 * MAILIMAP_ERROR_STARTTLS, MAILPOP3_ERROR_SSL or MAILSMTP_ERROR_SSL, codes
 * that otherwise read like "STARTTLS is not offered"). TRUE with @error
 * set (MS_ERROR_ACCOUNT, the same text as ms_net_starttls) and the
 * connection closed for good when it did. */
gboolean ms_net_starttls_injected (mailstream *stream, GError **error);

/* What a server may send before the connection is dropped. "Text" is
 * everything outside IMAP literals: status lines, untagged responses,
 * listings, and POP3 message lines. libetpan keeps a whole line, and the
 * text of a whole IMAP response, in memory, so without these bounds a
 * server could make it hold any amount. Counts start again at each
 * command sent. A stream starts with ms_net_limits_init (.., FALSE). */
typedef struct {
  gboolean imap;    /* count IMAP literals ({N} at the end of a line) apart from text */
  gsize line;       /* longest line of text, its line end included */
  guint64 lines;    /* most lines of text in the answers to one command; 0: no limit */
  guint64 text;     /* most bytes of text in the answers to one command; 0: no limit */
  guint64 literal;  /* IMAP: largest literal the server may announce; 0: no limit */
  guint64 literals; /* IMAP: most literal bytes in the answers to one command; 0: no limit */
} MsNetLimits;

#define MS_NET_LINE_MAX (1024 * 1024)
#define MS_NET_LINES_MAX 10000
#define MS_NET_TEXT_MAX (4 * 1024 * 1024)
#define MS_NET_LITERAL_MAX (1024 * 1024)
#define MS_NET_LITERALS_MAX (16 * 1024 * 1024)

/* Why libetpan must not parse the IMAP text line @line (@len bytes, or
 * its first bytes), the server's first line if @greeting: a static
 * phrase, or NULL when it is safe. IMAP streams refuse such a line. */
const char *ms_net_imap_unsafe (const char *line, gsize len, gboolean greeting);

/* The defaults above, for IMAP (@imap) or a line protocol. */
void ms_net_limits_init (MsNetLimits *limits, gboolean imap);

/* Apply @limits (copied) from the next byte read; the counts of the
 * current command's answers are kept. */
void ms_net_set_limits (mailstream *stream, const MsNetLimits *limits);

/* "64 MiB", "1.5 KiB", "113 bytes", for messages. Transfer full. */
char *ms_net_format_size (guint64 bytes);

/* Reads and writes fail once the monotonic clock (g_get_monotonic_time)
 * passes @deadline (0: never), and no read waits beyond it; the error
 * names fetch_deadline. */
void ms_net_set_deadline (mailstream *stream, gint64 deadline);

/* The error that made the stream unusable (a bound above, a timeout,
 * the server closing the connection...), "host:port: what", or NULL.
 * libetpan reports all of them as a stream error without the cause. */
const GError *ms_net_stream_error (mailstream *stream);

/* Whether input is waiting: bytes in libetpan's buffer, in the TLS layer,
 * or on the socket; waits up to @timeout_ms (-1 forever) or until @stop
 * is cancelled. For IMAP IDLE. */
gboolean ms_net_wait_input (mailstream *stream, int timeout_ms, GCancellable *stop);

/* The SHA-256 fingerprint of the peer's leaf certificate, "AB:CD:..."
 * (NULL for a plain stream). Transfer full. */
char *ms_net_peer_fingerprint (mailstream *stream);
