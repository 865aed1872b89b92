/* mailsift Sieve engine - the message's MIME structure (message/mime.h)
 * as the body (RFC 5173) and mime (RFC 5703) extensions see it: parsed
 * once per run, with runtime errors at the test that needed it, and the
 * header views and values of the mime extension's :mime tag. */
#pragma once

#include "sieve-interp.h"
#include "mime.h"

/* The parsed parts of the message @run filters; the first call parses.
 * NULL after a runtime error at @node: the request has no message file
 * ("body test needs the whole message": a header-only fetch, or standard
 * input) or it cannot be read. */
MsMime *ms_sv_mime_get (MsSvRun *run, const MsSvNode *node);

/* The header fields of @part as header, address and exists see them:
 * the run's view for the message itself. Transfer none: owned by the
 * part (or the run). */
MsHeaderView *ms_sv_part_view (MsSvRun *run, MsMimePart *part);

/* The raw body of the message: everything after the empty line that
 * ends the header, undecoded, at most MS_MIME_MAX_PART_TEXT bytes. FALSE
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
