/* mailsift Sieve engine - the parser (stage 2 of 5).
 *
 * RFC 5228 section 8.2 grammar into the syntax tree of sieve-ast.h. The
 * parser knows no command names: that is the validator's job. It reports
 * every syntax error it finds, recovering at the next ';' or block, so one
 * pass shows all of them. */
#pragma once

#include "sieve-ast.h"

#include <glib.h>

/* Nesting limits, so no script can exhaust the stack. */
#define MS_SV_MAX_BLOCK_DEPTH 32
#define MS_SV_MAX_TEST_DEPTH 32

/* Diagnostics of one compile: "LINE:COL: error: text" and
 * "LINE:COL: warning: text", in the order found. */
typedef struct {
  GPtrArray *errors;
  GPtrArray *warnings;
} MsSvDiag;

void ms_sv_diag_error (MsSvDiag *diag, guint line, guint col, const char *fmt, ...) G_GNUC_PRINTF (4, 5);
void ms_sv_diag_warning (MsSvDiag *diag, guint line, guint col, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

/* Parse @text (@len bytes). Returns the top-level commands (MsSvNode*,
 * transfer full), also when there were errors (then diag->errors is not
 * empty and the tree must not be run). */
GPtrArray *ms_sv_parse (const char *text, gsize len, MsSvDiag *diag);
