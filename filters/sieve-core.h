/* mailsift Sieve engine - helpers the core tests share with extensions:
 * match compilation for a node, address parts, header values with
 * :index, and the imap4flags :flags handling that keep and fileinto use. */
#pragma once

#include "sieve-interp.h"

typedef enum {
  MS_SV_PART_ALL,
  MS_SV_PART_LOCALPART,
  MS_SV_PART_DOMAIN,
  MS_SV_PART_USER,
  MS_SV_PART_DETAIL,
} MsSvAddressPart;

/* Compile the node's match tags with @keys into node->data (MsSvMatch);
 * also checks :index/:last. FALSE after reporting. */
gboolean ms_sv_validate_match (MsSvValidator *v, MsSvNode *node, const MsSvArg *keys);
void ms_sv_free_match (gpointer data);

MsSvAddressPart ms_sv_address_part (const MsSvNode *node);
/* Match one addr-spec's @part; TRUE when the test is decided. */
gboolean ms_sv_match_address (MsSvRun *run, MsSvMatching *st, MsSvAddressPart part, const char *addr);
/* Decoded values of header @name in @view, or only the one :index
 * picks (then stored in @one). NULL when there is none. */
const char *const *ms_sv_header_values (MsSvRun *run, const MsSvNode *node, MsHeaderView *view,
                                        const char *name, const char *one[2]);

/* imap4flags (sieve-ext-imap4flags.c): the :flags tag of keep and
 * fileinto, and the flags an action gets. */
extern const MsSvTagDef ms_sv_tags_flags[];
#define MS_SV_TAG_FLAGS (MS_SV_MAX_TAGS - 1)
gboolean ms_sv_imap4flags_for_action (MsSvRun *run, const MsSvNode *node, MsAction *action);

/* vacation and notify: refuse a string of @arg that is constant and
 * could not go into the header of the message they write
 * (ms_action_field_problem: a line break would add header fields of the
 * sender's choosing); @what names it in the error ("vacation :from").
 * FALSE after reporting. */
gboolean ms_sv_validate_field (MsSvValidator *v, const MsSvNode *node, const MsSvArg *arg,
                               const char *what, gboolean address);
/* The same at run time, for @value as expanded; FALSE after a runtime
 * error (the message is kept). */
gboolean ms_sv_run_check_field (MsSvRun *run, const MsSvNode *node, const char *value, gsize len,
                                const char *what, gboolean address);

/* :copy (RFC 3894) of redirect and fileinto; :create (RFC 5490) of
 * fileinto. */
extern const MsSvTagDef ms_sv_tags_copy[];
#define MS_SV_TAG_COPY (MS_SV_MAX_TAGS - 2)
#define MS_SV_TAG_CREATE (MS_SV_MAX_TAGS - 3)

/* mime (RFC 5703 4, sieve-ext-mime.c): :mime and :anychild of header,
 * address and exists; :type, :subtype, :contenttype and :param of
 * header. Checked by ms_sv_mime_validate_tags in their validate hooks;
 * at run time ms_sv_mime_views (sieve-mime.h) says which header fields
 * they look at. */
extern const MsSvTagDef ms_sv_tags_mime[];
extern const MsSvTagDef ms_sv_tags_mime_options[];
#define MS_SV_TAG_MIME (MS_SV_MAX_TAGS - 4)
#define MS_SV_TAG_ANYCHILD (MS_SV_MAX_TAGS - 5)
#define MS_SV_TAG_MIME_TYPE (MS_SV_MAX_TAGS - 6)
#define MS_SV_TAG_MIME_SUBTYPE (MS_SV_MAX_TAGS - 7)
#define MS_SV_TAG_MIME_CONTENTTYPE (MS_SV_MAX_TAGS - 8)
#define MS_SV_TAG_MIME_PARAM (MS_SV_MAX_TAGS - 9)
gboolean ms_sv_mime_validate_tags (MsSvValidator *v, MsSvNode *node);
/* Whether @node uses one of :type, :subtype, :contenttype, :param. */
gboolean ms_sv_mime_has_option (const MsSvNode *node);
