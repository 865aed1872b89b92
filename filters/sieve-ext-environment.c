/* mailsift Sieve engine - environment (RFC 5183). Items: "domain" and
 * "host" (this machine), "location" ("MDA"), "name" ("mailsift"),
 * "phase" ("during"), "version", and the per-message items the agent
 * passes as options "env.NAME" (for example "vnd.mailsift.account" and
 * "vnd.mailsift.folder" for fetched mail). An unknown item makes the
 * test false. */
#include "sieve-core.h"

#include <string.h>

static char *
item_value (MsSvRun *run, const char *name)
{
  g_autofree char *key = g_strdup_printf ("env.%s", name);
  const char *given = ms_filter_request_option (run->req, key);
  const char *host = g_get_host_name ();

  if (given)
    return g_strdup (given);
  if (g_ascii_strcasecmp (name, "name") == 0)
    return g_strdup ("mailsift");
  if (g_ascii_strcasecmp (name, "version") == 0)
    return g_strdup (PACKAGE_VERSION);
  if (g_ascii_strcasecmp (name, "location") == 0)
    return g_strdup ("MDA");
  if (g_ascii_strcasecmp (name, "phase") == 0)
    return g_strdup ("during");
  if (g_ascii_strcasecmp (name, "host") == 0)
    return g_strdup (host);
  if (g_ascii_strcasecmp (name, "domain") == 0)
    return g_strdup (strchr (host, '.') ? strchr (host, '.') + 1 : host);
  return NULL;
}

static gboolean
validate_environment (MsSvValidator *v, MsSvNode *node)
{
  return ms_sv_validate_match (v, node, node->pos[1]);
}

static int
test_environment (MsSvRun *run, const MsSvNode *node)
{
  const char *name = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), NULL);
  g_autofree char *value = item_value (run, name);
  MsSvMatching st;

  if (value == NULL)
    return 0;
  ms_sv_match_begin (run, &st, node->data);
  if (ms_sv_match_value (run, &st, value, strlen (value)))
    return 1;
  return ms_sv_match_end (run, &st);
}

static const MsSvTagDef *const tags[] = { ms_sv_tags_match, NULL };
static const MsSvDef def_environment = { "environment", MS_SV_TEST, "sl", tags, 0, FALSE,
                                         validate_environment, NULL, test_environment };
static const MsSvDef *const defs[] = { &def_environment, NULL };
const MsSvExtension ms_sv_ext_environment = { "environment", defs };
