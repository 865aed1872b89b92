/* mailsift Sieve engine - ihave and error (RFC 5463). ihave is true when
 * every named extension is supported; the validator treats those
 * extensions as required inside the block the test guards, and does not
 * look into a block whose extensions are missing (it can never run). */
#include "sieve-core.h"

static int
test_ihave (MsSvRun *run, const MsSvNode *node)
{
  const char *const *names = ms_sv_expand_list (run, node->pos[0]);

  for (guint i = 0; names[i]; i++)
    if (ms_sv_extension_lookup (names[i]) == NULL)
      return 0;
  return 1;
}

static gboolean
exec_error (MsSvRun *run, const MsSvNode *node)
{
  ms_sv_run_error (run, node, "the script said: %s", ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), NULL));
  return FALSE;
}

static const MsSvDef def_ihave = { "ihave", MS_SV_TEST, "l", NULL, 0, FALSE, NULL, NULL, test_ihave };
static const MsSvDef def_error = { "error", MS_SV_COMMAND, "s", NULL, 0, FALSE, NULL, exec_error, NULL };
static const MsSvDef *const defs[] = { &def_ihave, &def_error, NULL };
const MsSvExtension ms_sv_ext_ihave = { "ihave", defs };
