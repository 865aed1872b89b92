/* mailsift - the entry point of mailsift's own Sieve engine, called in
 * the filter process as ms_libsieve_run is for libsieve. */
#pragma once

#include "engine.h"

/* Validate or run @request's script with mailsift's engine. Transfer
 * full. Errors are "LINE:COL: error: text". */
MsFilterResult *ms_sieve_run (const MsFilterRequest *request);
