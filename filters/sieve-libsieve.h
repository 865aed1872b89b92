/* mailsift - the libsieve 2.2.6 binding. Runs only inside the filter
 * process (see engine.h): one context per call, GETHEADER from the
 * project's own header view, never GETALLHEADERS. */
#pragma once

#include "engine.h"

/* Validate or execute @request's script. The result is raw: actions as
 * libsieve reported them, not yet finished. Transfer full. */
MsFilterResult *ms_libsieve_run (const MsFilterRequest *request);
