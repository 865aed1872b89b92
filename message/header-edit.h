/* mailsift message model - header edits (Sieve editheader, RFC 5293) on the raw header
 * block.
 *
 * The Sieve engine applies each edit when the script makes it, so that
 * later tests see the changed header (through a header view of the
 * edited block); the agent applies the same edits in the same order to
 * write the copy it delivers. Both use this code, so what the tests saw
 * is what is delivered. Every byte outside the added and deleted fields
 * stays as it was. */
#pragma once

#include <glib.h>

/* The longest value addheader takes, in bytes before encoding: what
 * Pigeonhole allows by default (RFC 5293 4: no limit below 998). */
#define MS_HEADER_EDIT_MAX_VALUE 2048

typedef enum {
  MS_HEADER_EDIT_ADD,
  MS_HEADER_EDIT_DELETE,
} MsHeaderEditKind;

typedef struct {
  MsHeaderEditKind kind;
  char *name;     /* a valid field name (ms_header_field_name_is_valid) */
  char *value;    /* add: the field body as written after "name:", from
                   * ms_header_value_encode (7-bit, folded);
                   * delete: the decoded value of the field it removes,
                   * only to show it */
  gboolean last;  /* add: after the last field (default: before the first) */
  guint index;    /* delete: which field named @name, from 1, counted from
                   * the top of the header as the edits before left it */
} MsHeaderEdit;

/* Transfer full; the strings are copied. */
MsHeaderEdit *ms_header_edit_new (MsHeaderEditKind kind, const char *name, const char *value,
                                  gboolean last, guint index);
void ms_header_edit_free (MsHeaderEdit *edit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsHeaderEdit, ms_header_edit_free)

/* RFC 5322 3.6.8: one or more printable US-ASCII characters but ':'. */
gboolean ms_header_field_name_is_valid (const char *name, gsize len);

/* Fields no script may add or delete: Received (RFC 5293 6: never
 * deleted; an added one would forge the trace), Auto-Submitted (what
 * keeps automatic replies from looping) and X-Mailsift-Redirected
 * (mailsift's own redirect loop guard). Any case. */
gboolean ms_header_field_is_protected (const char *name);

/* The field body for @value (@len bytes, UTF-8) as addheader writes it
 * (RFC 5293 4): leading and trailing white space dropped, each line
 * break (CR, LF or CRLF, with the white space around it) turned into one
 * space, words with 8-bit or control characters, or too long for a
 * line, RFC 2047-encoded as UTF-8, and the result folded at spaces so
 * that lines stay within 78 characters where the words allow it (never
 * beyond 998). Invalid UTF-8 becomes U+FFFD. @name_len: the length of
 * the field name, for the first line. NULL with @why_out set when the
 * value cannot be a header value: it contains a NUL, or is longer than
 * MS_HEADER_EDIT_MAX_VALUE. Transfer full. */
char *ms_header_value_encode (const char *value, gsize len, gsize name_len, const char **why_out);

/* ---------------------------------------------------------------- applying */

typedef struct _MsHeaderEditor MsHeaderEditor;

/* Start editing the header block @data (@len bytes: the first
 * ms_header_view_get_header_size() bytes of the message). Fields are
 * told apart by the rules of ms_header_view_new(): a leading mbox
 * "From " line and lines that are neither fields nor continuations are
 * kept where they are but are no field; continuation lines belong to the
 * field above them. Transfer full. */
MsHeaderEditor *ms_header_editor_new (const char *data, gsize len);
void ms_header_editor_free (MsHeaderEditor *editor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsHeaderEditor, ms_header_editor_free)

/* Apply @edit. An added field goes before the first field (after a
 * "From " line) or, with last, after the last line before the empty
 * one. FALSE when a delete names a field that is not there (nothing is
 * changed). */
gboolean ms_header_editor_apply (MsHeaderEditor *editor, const MsHeaderEdit *edit);

/* The edited block. Transfer full. */
GBytes *ms_header_editor_get_bytes (const MsHeaderEditor *editor);

/* The header block @header (its first @header_size bytes) with the
 * first @n of @edits (MsHeaderEdit*) applied. Transfer full. */
GBytes *ms_header_edits_apply (GBytes *header, gsize header_size, const GPtrArray *edits, guint n);
