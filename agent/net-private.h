/* mailsift - the network layer's own type and the functions its files
 * share: net.c (the driver, connecting, waiting for input), net-bounds.c
 * (the bounds on what a server may send), net-trace.c (the protocol
 * trace) and net-tls.c (TLS and STARTTLS). Only those files include this
 * header; everything else sees net.h. */
#pragma once

#include "net.h"


/* The driver's data, one per mailstream. */
typedef struct {
  GSocketConnection *socket; /* the TCP connection, kept across STARTTLS */
  GIOStream *io;             /* @socket, or the GTlsClientConnection over it */
  GCancellable *cancel;      /* hard cancel (mailstream_cancel): all I/O fails */
  GError *error;             /* the first I/O error; sticky, see net_fail() */
  char *where;               /* "host:port", for messages */
  /* Over TLS, each read asks for a whole record, so that no decrypted byte
   * stays inside GIO's TLS layer: glib-networking (2.74, and upstream)
   * reports a TLS stream readable only when its socket is, so bytes left
   * there would be invisible to ms_net_wait_input(). What libetpan did not
   * take yet waits here instead. */
  char *tls_buf;
  gsize tls_pos, tls_len;
  /* What the server may send (see MsNetLimits), counted on the bytes
   * handed to libetpan. */
  MsNetLimits limits;
  gsize line_len;         /* bytes of the text line in progress */
  char tail[24];          /* its last bytes, where an IMAP "{N}" would be */
  gsize tail_len;
  guint64 literal_left;   /* bytes of the current IMAP literal still to come */
  gboolean in_braces;     /* IMAP: inside "{digits" in a text line */
  guint64 braced;         /* ... and the number so far */
  gboolean braced_over;   /* "{N}" just closed with N over the limit */
  guint64 lines, text, literals; /* in the answers to the last command sent */
  gint64 deadline;        /* monotonic; 0: none */
  guint timeout_s;        /* for each read and write */
  /* -vv: the protocol trace (net-trace.c) */
  gboolean trace;
  gboolean secret;        /* in an AUTH or LOGIN exchange: client lines hidden */
  GString *trace_line;    /* the server line being read, its first bytes */
  /* IMAP: the first bytes of the text line in progress, for
   * ms_net_imap_unsafe(), and whether a line was seen (the greeting) */
  GString *imap_head;
  gboolean greeted;
  guint trace_in, trace_out; /* lines shown since the last command, answer */
} NetStream;

/* ---------------------------------------------------------------- net.c */

/* The driver data of a stream made by ms_net_connect(); NULL for any
 * other stream. */
G_GNUC_INTERNAL NetStream *net_stream_of (mailstream *stream);

/* Make the stream unusable for good, keeping (a copy of) @error. */
G_GNUC_INTERNAL void net_kill (NetStream *ns, const GError *error);

/* ---------------------------------------------------------------- net-bounds.c */

/* Count @n bytes libetpan is about to get against the limits. FALSE:
 * a bound was hit and the stream is dead. */
G_GNUC_INTERNAL gboolean net_account (NetStream *ns, const char *buf, gsize n);

/* ---------------------------------------------------------------- net-trace.c */

/* The trace cuts lines at this many bytes; net_account() keeps that much
 * (and the line end) of the server line being read in trace_line. */
#define NET_TRACE_WIDTH 200

/* Trace the @n bytes mailsift is about to send. */
G_GNUC_INTERNAL void trace_out (NetStream *ns, const char *buf, gsize n);

/* Trace the server line in @ns->trace_line, which is whole. */
G_GNUC_INTERNAL void trace_in_line (NetStream *ns);

/* ---------------------------------------------------------------- net-tls.c */

/* Network and non-certificate TLS errors: "host:port: @what: cause". */
G_GNUC_INTERNAL void set_net_error (GError **error, const NetStream *ns, const char *what,
                                    const GError *cause);

/* Checks every TLS connection needs, before a byte goes out; *@pin_out
 * gets the normalized pin_sha256 (transfer full), or NULL. */
G_GNUC_INTERNAL gboolean check_tls_options (const MsNetOptions *options, char **pin_out,
                                            GError **error);

/* Wrap @ns->socket in TLS and handshake; returns the verified connection
 * (transfer full). @ns->io is left alone. */
G_GNUC_INTERNAL GIOStream *tls_handshake (NetStream *ns, const MsNetOptions *options,
                                          const char *pin, GError **error);
