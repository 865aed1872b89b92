/* mailsift message model - the header view: a message's header fields as people read them.
 *
 * Built once per message from the raw header block. Field values are
 * unfolded, trimmed, RFC 2047 encoded words decoded to UTF-8
 * (RFC 5228 2.7.2), NUL bytes and invalid UTF-8 made valid, and kept in
 * arrival order, duplicates included. Lookups by name ignore case.
 * All strings returned belong to the view (transfer none).
 *
 * A value is decoded when it is first asked for and kept, so the getters
 * below change the view behind its const: one view must not be read from
 * two threads at once. */
#pragma once

#include <glib.h>

typedef struct _MsHeaderView MsHeaderView;

/* The most header bytes ever parsed; the rest of a longer header counts
 * as body for filtering (it is still delivered byte for byte). */
#define MS_HEADER_MAX_BYTES (8u * 1024 * 1024)
/* The most fields kept; later fields are ignored for filtering. */
#define MS_HEADER_MAX_FIELDS 10000

/* Parse the header block at the start of @data (@len bytes, need not be
 * NUL-terminated, may contain NULs, LF or CRLF line ends). Parsing stops at
 * the first empty line, at @len, or at MS_HEADER_MAX_BYTES. A leading mbox
 * "From " line is skipped; lines that are neither fields nor continuations
 * are ignored. Never fails. Transfer full. */
MsHeaderView *ms_header_view_new (const char *data, gsize len);
void ms_header_view_free (MsHeaderView *view);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsHeaderView, ms_header_view_free)

/* Bytes of @data the header block took, including the empty separator line
 * when there is one. A header longer than MS_HEADER_MAX_BYTES ends after
 * its last whole line within the limit (a line cut by the limit is body). */
gsize ms_header_view_get_header_size (const MsHeaderView *view);
/* Whether an empty line ended the header (FALSE: the message has no body
 * separator, or the header was longer than MS_HEADER_MAX_BYTES). */
gboolean ms_header_view_has_separator (const MsHeaderView *view);

guint ms_header_view_get_n_fields (const MsHeaderView *view);
/* Field name as written (valid UTF-8). */
const char *ms_header_view_get_name (const MsHeaderView *view, guint i);
/* Decoded value (see above). For address fields (From, To, Cc, Bcc,
 * Sender, Reply-To, Resent-*, Delivered-To, Return-Path...) decoded display
 * names are re-quoted so the value still parses as an address list.
 * Never contains CR, LF or NUL (a decoded or bare CR/LF becomes a space),
 * so it cannot forge a header line when copied into a reply. */
const char *ms_header_view_get_value (const MsHeaderView *view, guint i);
/* Unfolded and trimmed but not RFC 2047-decoded value, NULs replaced,
 * made valid UTF-8. */
const char *ms_header_view_get_raw (const MsHeaderView *view, guint i);

/* Every decoded value of the fields named @name (any case), in order,
 * NULL-terminated; NULL when there is none. */
const char *const *ms_header_view_lookup (const MsHeaderView *view, const char *name);
/* The first decoded value of @name, or NULL. */
const char *ms_header_view_get_first (const MsHeaderView *view, const char *name);
