/* mailsift - mailsift's own Sieve engine behind the filter interface:
 * the compiled script comes from the cache, so a script is compiled once
 * per filter process and change of the file. */
#include "sieve-mailsift.h"

#include "sieve-interp.h"
#include "sieve-script.h"

MsFilterResult *
ms_sieve_run (const MsFilterRequest *req)
{
  MsFilterResult *result = ms_filter_result_new ();
  MsSvScript *script = ms_sv_script_cache_get (req->script_path, ms_filter_request_option (req, "sieve_dir"),
                                               ms_filter_request_option (req, "sieve_global_dir"));

  for (guint i = 0; i < script->warnings->len; i++)
    g_ptr_array_add (result->warnings, g_strdup (script->warnings->pdata[i]));
  if (script->errors->len > 0)
    {
      for (guint i = 0; i < script->errors->len; i++)
        g_ptr_array_add (result->errors, g_strdup (script->errors->pdata[i]));
      ms_filter_result_fail (result, script->errors->pdata[0]);
      result->complete = TRUE;
      return result;
    }
  result->complete = TRUE;
  result->needs_body = script->needs_body;
  if (req->mode == MS_FILTER_VALIDATE)
    return result;
  ms_sv_execute (script, req, result);
  return result;
}
