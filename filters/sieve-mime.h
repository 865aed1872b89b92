/* mailsift Sieve engine - the message's MIME structure, shared by the
 * body (RFC 5173) and mime (RFC 5703) extensions.
 *
 * GMime parses the message file (MsFilterRequest.message_path) through a
 * file stream it keeps (persistent stream): part contents stay on disk
 * and are read, transfer-decoded and converted to UTF-8 only when a test
 * asks, and then at most MS_SV_MAX_PART_TEXT bytes of each part, so a
 * 100 MB message costs the filter process a few MiB. Only the header
 * fields, multipart prologues and epilogues are held in memory.
 *
 * The parts are flattened in depth-first order: the message itself
 * first, then each part of a multipart, and for a message/rfc822 part
 * the enclosed message (whose header fields are its own) and its parts.
 * A part's descendants are the parts from its index + 1 up to its end. */
#pragma once

#include "sieve-interp.h"

#include <gmime/gmime.h>

/* The most parts looked at in one message; the rest are ignored (with a
 * warning). */
#define MS_SV_MAX_PARTS 1000
/* The most bytes of one part's text (decoded, in UTF-8) or of the raw
 * body that a test examines; the rest is not looked at. */
#define MS_SV_MAX_PART_TEXT (1024 * 1024)

typedef enum {
  MS_SV_PART_LEAF,      /* a GMimePart (text, image, ...) */
  MS_SV_PART_MULTIPART, /* a GMimeMultipart */
  MS_SV_PART_MESSAGE,   /* a GMimeMessagePart (message/rfc822) */
} MsSvPartKind;

typedef struct _MsSvPart MsSvPart;
struct _MsSvPart {
  guint index;          /* in MsSvMime.parts */
  guint end;            /* index after its last descendant */
  MsSvPartKind kind;
  GMimeObject *object;  /* the content (transfer none); NULL: an empty message */
  GMimeObject *fields;  /* whose header fields are the part's: the object, an
                         * enclosed GMimeMessage, or NULL for the message
                         * itself (its header is MsSvRun.view) */
  char *type;           /* lowercase, e.g. "text" */
  char *subtype;        /* lowercase, e.g. "plain" */
  MsHeaderView *view;   /* its header fields, built at first use */
};

struct _MsSvMime {
  GMimeStream *stream;
  GMimeMessage *message;
  GPtrArray *parts;     /* MsSvPart*, depth-first */
};

/* The parsed parts of the message @run filters; the first call parses.
 * NULL after a runtime error at @node: the request has no message file
 * ("body test needs the whole message": a header-only fetch, or standard
 * input) or it cannot be read. */
MsSvMime *ms_sv_mime_get (MsSvRun *run, const MsSvNode *node);
void ms_sv_mime_free (MsSvMime *mime);

/* The header fields of @part as header, address and exists see them.
 * Transfer none: owned by the part (or the run). */
MsHeaderView *ms_sv_part_view (MsSvRun *run, MsSvPart *part);

/* Whether @part is text (a leaf of type text/...). */
gboolean ms_sv_part_is_text (const MsSvPart *part);

/* The content of leaf @part with its transfer encoding (base64,
 * quoted-printable, uuencode) removed, at most MS_SV_MAX_PART_TEXT bytes.
 * With @text, converted from its charset to valid UTF-8 (unknown
 * charsets are read as UTF-8, bad bytes become U+FFFD), and with
 * @plain HTML also turned into plain text. NULL when @part is not a
 * leaf. Transfer full. */
GBytes *ms_sv_part_content (const MsSvPart *part, gboolean text, gboolean plain);

/* The text of @html with the markup removed: tags dropped, script and
 * style contents skipped, block ends as line breaks, character
 * references decoded. Transfer full. */
char *ms_sv_html_to_text (const char *html, gsize len);

/* The raw body of the message: everything after the empty line that
 * ends the header, undecoded, at most MS_SV_MAX_PART_TEXT bytes. FALSE
 * after a runtime error at @node (as ms_sv_mime_get). *@body_out is NULL
 * when the message has no empty line after its header (RFC 5173 4: no
 * body at all). */
gboolean ms_sv_message_raw_body (MsSvRun *run, const MsSvNode *node, GBytes **body_out);

/* The header views a header, address or exists test @node looks at
 * (RFC 5703 4): the message's; with :mime the current part's (the
 * message's outside foreverypart), and with :anychild also those of
 * every part below it. They replace what @views held (MsHeaderView*,
 * transfer none). FALSE after a runtime error. */
gboolean ms_sv_mime_views (MsSvRun *run, const MsSvNode *node, GPtrArray *views);

/* header :mime with :type, :subtype, :contenttype or :param: match the
 * values taken from @value of field @name (Content-Type or
 * Content-Disposition; any other field gives ""). TRUE when the test is
 * decided, as ms_sv_match_value. */
gboolean ms_sv_mime_match_option (MsSvRun *run, MsSvMatching *st, const MsSvNode *node, const char *name,
                                  const char *value);
