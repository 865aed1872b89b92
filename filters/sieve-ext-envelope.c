/* mailsift Sieve engine - the envelope test (RFC 5228 5.4). The parts
 * are "from" (the envelope sender; the null sender is the empty string
 * whatever the address part) and "to" (the envelope recipient). */
#include "sieve-core.h"

#include <string.h>

static gboolean
validate_envelope (MsSvValidator *v, MsSvNode *node)
{
  const MsSvArg *parts = node->pos[0];
  gboolean ok = TRUE;

  for (guint i = 0; i < parts->strings->len; i++)
    {
      const MsSvStr *p = ms_sv_arg_str (parts, i);
      if (!p->vars && g_ascii_strcasecmp (p->str, "from") != 0 && g_ascii_strcasecmp (p->str, "to") != 0)
        {
          ms_sv_validator_error (v, node, parts, "unknown envelope part \"%s\": expected \"from\" or \"to\"", p->str);
          ok = FALSE;
        }
    }
  return ms_sv_validate_match (v, node, node->pos[1]) && ok;
}

static int
test_envelope (MsSvRun *run, const MsSvNode *node)
{
  const char *const *parts = ms_sv_expand_list (run, node->pos[0]);
  MsSvAddressPart part = ms_sv_address_part (node);
  MsSvMatching st;

  ms_sv_match_begin (run, &st, node->data);
  for (guint i = 0; parts[i]; i++)
    {
      gboolean from = g_ascii_strcasecmp (parts[i], "from") == 0;
      const char *addr;
      if (!from && g_ascii_strcasecmp (parts[i], "to") != 0)
        continue;
      addr = from ? run->req->envelope_from : run->req->envelope_to;
      if (addr == NULL || (*addr == '\0' && !from))
        continue;
      if (*addr == '\0')
        {
          /* the null sender is "" for every address part */
          if (ms_sv_match_value (run, &st, "", 0))
            return 1;
          continue;
        }
      if (ms_sv_match_address (run, &st, part, addr))
        return 1;
    }
  return ms_sv_match_end (run, &st);
}

static const MsSvTagDef *const envelope_tags[] = { ms_sv_tags_match, ms_sv_tags_address_part, NULL };
static const MsSvDef def_envelope = { "envelope", MS_SV_TEST, "ll", envelope_tags, 0, FALSE,
                                      validate_envelope, NULL, test_envelope };
static const MsSvDef *const defs[] = { &def_envelope, NULL };
const MsSvExtension ms_sv_ext_envelope = { "envelope", defs };
