/* mailsift Sieve engine - reject and ereject (RFC 5429). Both refuse the
 * message with a reason; mailsift sends the refusal as a notice (it is
 * not in the SMTP dialogue), so ereject acts as reject. */
#include "sieve-core.h"

static gboolean
exec_reject (MsSvRun *run, const MsSvNode *node)
{
  const char *reason = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), NULL);

  run->implicit_keep = FALSE;
  return ms_sv_run_add_action (run, node, ms_action_new (MS_ACTION_REJECT, reason));
}

static const MsSvDef def_reject = { "reject", MS_SV_COMMAND, "s", NULL, 0, FALSE, NULL, exec_reject, NULL };
static const MsSvDef def_ereject = { "ereject", MS_SV_COMMAND, "s", NULL, 0, FALSE, NULL, exec_reject, NULL };
static const MsSvDef *const reject_defs[] = { &def_reject, NULL };
static const MsSvDef *const ereject_defs[] = { &def_ereject, NULL };
const MsSvExtension ms_sv_ext_reject = { "reject", reject_defs };
const MsSvExtension ms_sv_ext_ereject = { "ereject", ereject_defs };
