/* mailsift Sieve engine - variables (RFC 5229): what other extensions
 * use to read and write named variables. */
#pragma once

#include "sieve-interp.h"

/* The value of variable @name (any case); "" when unset. Owned by the
 * run, valid until the variable is set again. */
const char *ms_sv_variables_get (MsSvRun *run, const char *name);
/* Set @name to @len bytes of @value, cut to MS_SV_MAX_VARIABLE_SIZE. */
void ms_sv_variables_set (MsSvRun *run, const char *name, const char *value, gsize len);
/* An identifier: a letter or '_' and then letters, digits and '_'. */
gboolean ms_sv_variables_name_is_valid (const char *name);
