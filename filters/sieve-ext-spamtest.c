/* mailsift Sieve engine - spamtest, spamtestplus and virustest
 * (RFC 5235). The score comes from a header your spam or virus scanner
 * adds, named in the configuration (options "spamtest_header",
 * "spamtest_type" = score | strlen, "spamtest_max"; "virustest_header"
 * holding 1 to 5). Without the header the message was not tested: "0". */
#include "sieve-core.h"

#include <stdlib.h>
#include <string.h>

enum { TAG_PERCENT = MS_SV_TAG_OWN };

/* The spamtest value as a string: "0" untested, "1".."10" (or 0..100
 * with :percent). */
static char *
spam_value (MsSvRun *run, gboolean percent)
{
  const char *hname = ms_filter_request_option (run->req, "spamtest_header");
  const char *type = ms_filter_request_option (run->req, "spamtest_type");
  const char *maxs = ms_filter_request_option (run->req, "spamtest_max");
  const char *v = hname ? ms_header_view_get_first (run->view, hname) : NULL;
  double max = maxs ? g_ascii_strtod (maxs, NULL) : 10.0, score, ratio;

  if (v == NULL)
    return g_strdup ("0");
  if (g_strcmp0 (type, "strlen") == 0)
    {
      const char *p = v;
      while (*p == ' ')
        p++;
      score = (double) strcspn (p, " \t");
    }
  else
    {
      const char *p = v;
      while (*p && !g_ascii_isdigit (*p) && !(*p == '-' && g_ascii_isdigit (p[1])))
        p++;
      if (*p == '\0')
        return g_strdup ("0");
      score = g_ascii_strtod (p, NULL);
    }
  if (max <= 0)
    max = 10.0;
  ratio = CLAMP (score / max, 0.0, 1.0);
  if (percent)
    return g_strdup_printf ("%d", (int) (ratio * 100 + 0.5));
  /* 1 = definitely not spam ... 10 = definitely spam (RFC 5235 3.2) */
  return g_strdup_printf ("%d", 1 + (int) (ratio * 9 + 0.5));
}

static char *
virus_value (MsSvRun *run)
{
  const char *hname = ms_filter_request_option (run->req, "virustest_header");
  const char *v = hname ? ms_header_view_get_first (run->view, hname) : NULL;
  const char *p = v;

  while (p && *p && !g_ascii_isdigit (*p))
    p++;
  if (p == NULL || *p < '1' || *p > '5')
    return g_strdup ("0");
  return g_strndup (p, 1);
}

static gboolean
validate_score (MsSvValidator *v, MsSvNode *node)
{
  if (ms_sv_node_has_tag (node, TAG_PERCENT) && !ms_sv_validator_has_extension (v, "spamtestplus"))
    {
      ms_sv_validator_error (v, node, node->tagval[TAG_PERCENT], "':percent' needs require \"spamtestplus\"");
      return FALSE;
    }
  return ms_sv_validate_match (v, node, node->pos[0]);
}

static int
test_score (MsSvRun *run, const MsSvNode *node)
{
  g_autofree char *value = node->def->name[0] == 's' ? spam_value (run, ms_sv_node_has_tag (node, TAG_PERCENT))
                                                     : virus_value (run);
  MsSvMatching st;

  ms_sv_match_begin (run, &st, node->data);
  if (ms_sv_match_value (run, &st, value, strlen (value)))
    return 1;
  return ms_sv_match_end (run, &st);
}

static const MsSvTagDef percent_tags[] = {
  { "percent", TAG_PERCENT, 0, NULL, NULL },
  { NULL },
};
static const MsSvTagDef *const spam_tags[] = { ms_sv_tags_match, percent_tags, NULL };
static const MsSvTagDef *const virus_tags[] = { ms_sv_tags_match, NULL };
static const MsSvDef def_spamtest = { "spamtest", MS_SV_TEST, "s", spam_tags, 0, FALSE, validate_score, NULL, test_score };
static const MsSvDef def_virustest = { "virustest", MS_SV_TEST, "s", virus_tags, 0, FALSE, validate_score, NULL, test_score };
static const MsSvDef *const spam_defs[] = { &def_spamtest, NULL };
static const MsSvDef *const virus_defs[] = { &def_virustest, NULL };
const MsSvExtension ms_sv_ext_spamtest = { "spamtest", spam_defs };
const MsSvExtension ms_sv_ext_spamtestplus = { "spamtestplus", spam_defs };
const MsSvExtension ms_sv_ext_virustest = { "virustest", virus_defs };
