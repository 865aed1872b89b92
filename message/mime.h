/* mailsift message model - a message's MIME structure, which the Sieve
 * engine's body (RFC 5173) and mime (RFC 5703) extensions look at.
 *
 * GMime parses the message file  through a
 * file stream it keeps (persistent stream): part contents stay on disk
 * and are read, transfer-decoded and converted to UTF-8 only when a test
 * asks, and then at most MS_MIME_MAX_PART_TEXT bytes of each part, so a
 * 100 MB message costs the filter process a few MiB. Only the header
 * fields, multipart prologues and epilogues are held in memory.
 *
 * The parts are flattened in depth-first order: the message itself
 * first, then each part of a multipart, and for a message/rfc822 part
 * the enclosed message (whose header fields are its own) and its parts.
 * A part's descendants are the parts from its index + 1 up to its end. */
#pragma once

#include "header.h"

#include <gmime/gmime.h>

/* The most parts looked at in one message; the rest are ignored (with a
 * warning). */
#define MS_MIME_MAX_PARTS 1000
/* The most bytes of one part's text (decoded, in UTF-8) or of the raw
 * body that a test examines; the rest is not looked at. */
#define MS_MIME_MAX_PART_TEXT (1024 * 1024)

typedef enum {
  MS_MIME_PART_LEAF,      /* a GMimePart (text, image, ...) */
  MS_MIME_PART_MULTIPART, /* a GMimeMultipart */
  MS_MIME_PART_MESSAGE,   /* a GMimeMessagePart (message/rfc822) */
} MsMimePartKind;

typedef struct _MsMimePart MsMimePart;
struct _MsMimePart {
  guint index;          /* in MsMime.parts */
  guint end;            /* index after its last descendant */
  MsMimePartKind kind;
  GMimeObject *object;  /* the content (transfer none); NULL: an empty message */
  GMimeObject *fields;  /* whose header fields are the part's: the object, an
                         * enclosed GMimeMessage, or NULL for the message
                         * itself (whose header view the caller has) */
  char *type;           /* lowercase, e.g. "text" */
  char *subtype;        /* lowercase, e.g. "plain" */
  MsHeaderView *view;   /* its header fields, built at first use */
};

typedef struct _MsMime MsMime;
struct _MsMime {
  GMimeStream *stream;
  GMimeMessage *message;
  GPtrArray *parts;     /* MsMimePart*, depth-first */
};

/* GMime's g_mime_init, once. */
void ms_mime_init (void);

/* Parse the message in the file @path (an mbox "From " line first is
 * skipped); NULL with @error when it cannot be opened. The parts are
 * capped at MS_MIME_MAX_PARTS (parts->len reaches it when there were
 * more). Transfer full. */
MsMime *ms_mime_open (const char *path, GError **error);
void ms_mime_free (MsMime *mime);

/* The header fields of @part; NULL for the message itself (fields is
 * NULL). Transfer none: owned by the part. */
MsHeaderView *ms_mime_part_view (MsMimePart *part);

/* Whether @part is text (a leaf of type text/...). */
gboolean ms_mime_part_is_text (const MsMimePart *part);

/* The content of leaf @part with its transfer encoding (base64,
 * quoted-printable, uuencode) removed, at most MS_MIME_MAX_PART_TEXT
 * bytes. With @text, converted from its charset to valid UTF-8 (unknown
 * charsets are read as UTF-8, bad bytes become U+FFFD), and with
 * @plain HTML also turned into plain text. NULL when @part is not a
 * leaf. Transfer full. */
GBytes *ms_mime_part_content (const MsMimePart *part, gboolean text, gboolean plain);

/* The text of @html with the markup removed: tags dropped, script and
 * style contents skipped, block ends as line breaks, character
 * references decoded. Transfer full. */
char *ms_mime_html_to_text (const char *html, gsize len);

/* The raw body of the message in the file @path: everything after the
 * empty line that ends the header, undecoded, at most
 * MS_MIME_MAX_PART_TEXT bytes. FALSE with @error when the file cannot be
 * read. *@body_out is NULL when the message has no empty line after its
 * header (no body at all). */
gboolean ms_mime_raw_body (const char *path, GBytes **body_out, GError **error);
