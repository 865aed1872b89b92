/* mailsift Sieve engine - the validator (stage 3 of 5). See sieve-def.h
 * for the tables that drive it. */
#pragma once

#include "sieve-def.h"
#include "sieve-script.h"

/* Validate @script->commands in place, resolving every node; problems go
 * to @errors and @warnings as "LINE:COL: error: text". */
void ms_sv_validate (MsSvScript *script, GPtrArray *errors, GPtrArray *warnings);
