/* mailsift - static checks of a Sieve script for what libsieve 2.2.6 gets
 * wrong without saying so: constructs that crash or hang it, and errors
 * it silently ignores (unknown comparators, missing require). */
#pragma once

#include <glib.h>

/* Scan @script. "LINE: text" strings are appended to @errors (the script
 * must not run: it would misbehave silently) and @warnings (it runs, but
 * the user should know). Either array may be NULL. */
void ms_lint_script (const char *script, GPtrArray *errors, GPtrArray *warnings);

/* Whether @tag (e.g. ":from") appears as a tag anywhere in @script,
 * outside comments and strings. */
gboolean ms_lint_script_has_tag (const char *script, const char *tag);
