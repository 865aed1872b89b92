/* mailsift Sieve engine - fileinto (RFC 5228 4.1), with :copy (RFC 3894),
 * :flags (RFC 5232) and :create (RFC 5490). */
#include "sieve-core.h"

static const MsSvTagDef create_tags[] = {
  { "create", MS_SV_TAG_CREATE, 0, NULL, "mailbox" },
  { NULL },
};

static gboolean
validate_fileinto (MsSvValidator *v, MsSvNode *node)
{
  const MsSvStr *folder = ms_sv_arg_str (node->pos[0], 0);

  if (!folder->vars && folder->len == 0)
    {
      ms_sv_validator_error (v, node, node->pos[0], "fileinto with an empty folder name");
      return FALSE;
    }
  if (!folder->vars && !g_utf8_validate (folder->str, folder->len, NULL))
    {
      ms_sv_validator_error (v, node, node->pos[0], "the folder name is not valid UTF-8");
      return FALSE;
    }
  return TRUE;
}

static gboolean
exec_fileinto (MsSvRun *run, const MsSvNode *node)
{
  gsize len;
  const char *folder = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), &len);
  MsAction *a;

  if (len == 0 || !g_utf8_validate (folder, len, NULL))
    {
      ms_sv_run_error (run, node, "fileinto needs a folder name in UTF-8, got \"%s\"", folder);
      return FALSE;
    }
  a = ms_action_new (MS_ACTION_FILEINTO, folder);
  if (!ms_sv_imap4flags_for_action (run, node, a))
    {
      ms_action_free (a);
      return FALSE;
    }
  if (!ms_sv_node_has_tag (node, MS_SV_TAG_COPY))
    run->implicit_keep = FALSE;
  return ms_sv_run_add_action (run, node, a);
}

static const MsSvTagDef *const fileinto_tags[] = { ms_sv_tags_copy, ms_sv_tags_flags, create_tags, NULL };
static const MsSvDef def_fileinto = { "fileinto", MS_SV_COMMAND, "s", fileinto_tags, 0, FALSE,
                                      validate_fileinto, exec_fileinto, NULL };
static const MsSvDef *const defs[] = { &def_fileinto, NULL };
const MsSvExtension ms_sv_ext_fileinto = { "fileinto", defs };
