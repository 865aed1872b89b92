/* mailsift Sieve engine - the interpreter (stage 4 of 5) and what the
 * command and test implementations may use while a script runs.
 *
 * One MsSvRun is one message through one compiled script. Commands add
 * actions to the result (stage 5, the action list of action.h) through
 * ms_sv_run_add_action, which enforces the action limit and the reject
 * conflicts; the interpreter adds the implicit keep at the end. A runtime
 * error stops the script and turns the result into an implicit keep. */
#pragma once

#include "action.h"
#include "engine.h"
#include "header-edit.h"
#include "header.h"
#include "sieve-comparator.h"
#include "sieve-def.h"
#include "sieve-match.h"
#include "sieve-script.h"

#include <glib.h>

typedef struct _MsMime MsMime; /* message/mime.h */
typedef struct _MsMimePart MsMimePart;

/* RFC 5228 2.10.6: implementations may limit actions; Pigeonhole's
 * default is 32. */
#define MS_SV_MAX_ACTIONS 32
/* Commands executed per message, so no script can loop forever (include
 * and foreverypart are the only ways to repeat). */
#define MS_SV_MAX_STEPS 100000
#define MS_SV_MAX_VARIABLE_SIZE 4096
#define MS_SV_MAX_VARIABLES 255
#define MS_SV_MAX_MATCH_VALUES 10
/* Header edits per message (editheader): each costs a copy of the
 * header, and a deleteheader makes one per field it removes. */
#define MS_SV_MAX_HEADER_EDITS 1000

struct _MsSvRun {
  const MsFilterRequest *req;
  MsSvScript *script;
  MsFilterResult *result;
  MsHeaderView *view;          /* the header as tests see it, edits included */
  MsHeaderEditor *editor;      /* editheader: the header block as edited;
                                * NULL until the first edit */
  gboolean implicit_keep;      /* still on */
  gboolean stopped;            /* stop, return, or a runtime error */
  gboolean returned;           /* return: only the included script ends */
  gboolean failed;
  guint n_actions;
  guint steps;
  GPtrArray *scratch;          /* strings freed when the run ends */
  /* address: header value (by pointer, owned by a view) -> its
   * addresses, parsed and split once (sieve-core.c); NULL before the
   * first. Emptied when editheader replaces the view. */
  GHashTable *addresses;
  GPtrArray *views;            /* MsHeaderView* (not owned): what
                                * ms_sv_mime_views fills for a test with
                                * :mime (sieve-core.c) */

  /* variables (RFC 5229): name (lowercase) -> GString, the current
   * script's own and the global ones (include); and ${0}..${9} */
  GHashTable *vars;
  GHashTable *globals;
  guint include_depth;
  GHashTable *included_once; /* paths included with :once */
  GPtrArray *match_values;     /* char*, NULL when no match was recorded */
  /* imap4flags: the internal variable (RFC 5232 3) */
  GPtrArray *flags;            /* char*, normalised, no duplicates */

  /* body and mime (sieve-mime.h): the message's MIME parts, parsed by
   * the first test that needs them; NULL before */
  MsMime *mime;
  /* foreverypart (RFC 5703 3): the part the innermost loop is at
   * (header :mime, extracttext look at it); NULL outside loops */
  MsMimePart *part;
  /* break: the foreverypart node being left (with stopped set) */
  const MsSvNode *breaking;
};

/* Stop the script with a runtime error at @node. The message is kept. */
void ms_sv_run_error (MsSvRun *run, const MsSvNode *node, const char *fmt, ...) G_GNUC_PRINTF (3, 4);
void ms_sv_run_warning (MsSvRun *run, const MsSvNode *node, const char *fmt, ...) G_GNUC_PRINTF (3, 4);
void ms_sv_run_trace (MsSvRun *run, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* Add @action (transfer full). FALSE (after a runtime error) when the
 * action limit is reached or it conflicts with one already there. */
gboolean ms_sv_run_add_action (MsSvRun *run, const MsSvNode *node, MsAction *action);

/* editheader: apply @edits (MsHeaderEdit*, in order; they are moved out
 * of the array) to the header, add them to the result, and rebuild the
 * view so that later tests see them; actions added from now on carry
 * them. FALSE (after a runtime error) beyond MS_SV_MAX_HEADER_EDITS. */
gboolean ms_sv_run_edit_header (MsSvRun *run, const MsSvNode *node, GPtrArray *edits);

/* The value of string @s with variables substituted (when the variables
 * extension is on and the string uses them). The pointer lives as long
 * as the run. */
const char *ms_sv_expand (MsSvRun *run, const MsSvStr *s, gsize *len_out);
/* Every string of @arg expanded, NULL-terminated, valid as long as the
 * run (owned by it, or by the script when no string uses variables). */
const char *const *ms_sv_expand_list (MsSvRun *run, const MsSvArg *arg);
char *ms_sv_run_keep_string (MsSvRun *run, char *s /* transfer full */);

/* ---------------------------------------------------------------- matching */

/* The match part of a test (comparator, match type, relation, keys),
 * compiled by ms_sv_match_compile in a validate hook and kept in the
 * node's data (or elsewhere in it). */
typedef struct {
  MsSieveMatchType type;
  MsSieveRelation rel;
  MsSieveComparator cmp;
  const MsSvArg *keys;
  GPtrArray *regexes;   /* MsSieveRegex* per key when no key uses variables */
  char **folded;        /* i;ascii-casemap :is and :contains: each key
                         * folded (ms_sieve_ascii_fold; as long as the key,
                         * not NUL-terminated), NULL for one that uses
                         * variables; else NULL */
} MsSvMatch;

/* Read :comparator and the match type from @node's tags into @m with
 * @keys as the key list; check they fit (e.g. :count needs a numeric
 * comparator? no - but :contains needs a comparator with substrings;
 * regexes compile). FALSE after reporting. */
gboolean ms_sv_match_compile (MsSvValidator *v, MsSvNode *node, const MsSvArg *keys, MsSvMatch *m);
void ms_sv_match_clear (MsSvMatch *m);

typedef struct {
  const MsSvMatch *m;
  guint count;           /* values seen, for :count */
  gboolean matched;
  gboolean no_captures;  /* set after begin: :matches leaves ${1}... alone
                          * (body, RFC 5173 6) */
} MsSvMatching;

void ms_sv_match_begin (MsSvRun *run, MsSvMatching *st, const MsSvMatch *m);
/* One value: TRUE when the test is decided (matched); :count never
 * decides early. */
gboolean ms_sv_match_value (MsSvRun *run, MsSvMatching *st, const char *value, gsize len);
/* The test's result: 1 or 0 (-1 on a runtime error). */
int ms_sv_match_end (MsSvRun *run, MsSvMatching *st);

/* ---------------------------------------------------------------- extension hooks */

/* variables: @s with ${...} substituted (sieve-ext-variables.c).
 * Transfer full. */
char *ms_sv_variables_expand (MsSvRun *run, const char *s, gsize len, gsize *len_out);
/* imap4flags: give the implicit keep the internal flags. */
void ms_sv_imap4flags_implicit (MsSvRun *run, MsAction *keep);

/* ---------------------------------------------------------------- running */

/* Run the commands of @block in order (stops early on stop or error). */
gboolean ms_sv_run_block (MsSvRun *run, const GPtrArray *block);
/* Evaluate one test node: 1, 0 or -1. */
int ms_sv_run_test (MsSvRun *run, const MsSvNode *test);

/* Run @script on the message in @req; adds to @result. Never fails:
 * a runtime error is an error in @result (and an implicit keep). */
void ms_sv_execute (MsSvScript *script, const MsFilterRequest *req, MsFilterResult *result);
