/* mailsift Sieve engine - spamtest, spamtestplus and virustest
 * (RFC 5235). The score comes from a header your spam or virus scanner
 * adds, named in the configuration (options "spamtest_header",
 * "spamtest_type" = score | strlen, "spamtest_max"; "virustest_header",
 * "virustest_max"). Without the header the message was not tested: "0". */
#include "sieve-core.h"

#include <stdlib.h>
#include <string.h>

enum { TAG_PERCENT = MS_SV_TAG_OWN };

/* The score in header @hname (a number, or with type "strlen" the
 * length of its first word) as a fraction of @max, clamped to 0..1;
 * -1 when the header is absent (the message was not tested). */
static double
score_ratio (MsSvRun *run, const char *hname, const char *type, const char *maxs, double dflt_max)
{
  const char *v = hname ? ms_header_view_get_first (run->view, hname) : NULL;
  double max = maxs ? g_ascii_strtod (maxs, NULL) : dflt_max, score;
  const char *p = v;

  if (v == NULL)
    return -1;
  if (g_strcmp0 (type, "strlen") == 0)
    {
      while (*p == ' ')
        p++;
      score = (double) strcspn (p, " \t");
    }
  else
    {
      while (*p && !g_ascii_isdigit (*p) && !(*p == '-' && g_ascii_isdigit (p[1])))
        p++;
      if (*p == '\0')
        return -1;
      score = g_ascii_strtod (p, NULL);
    }
  if (max <= 0)
    max = dflt_max;
  return CLAMP (score / max, 0.0, 1.0);
}

/* RFC 5235: "0" means not tested; spamtest gives 1 (certainly not spam)
 * to 10, virustest 1 (clean) to 5; :percent 0 to 100. The score scales
 * linearly onto that range, as Pigeonhole's does (score 2 of 10 is 2). */
static char *
test_value (MsSvRun *run, gboolean spam, gboolean percent)
{
  double ratio = spam ? score_ratio (run, ms_filter_request_option (run->req, "spamtest_header"),
                                     ms_filter_request_option (run->req, "spamtest_type"),
                                     ms_filter_request_option (run->req, "spamtest_max"), 10.0)
                      : score_ratio (run, ms_filter_request_option (run->req, "virustest_header"), "score",
                                     ms_filter_request_option (run->req, "virustest_max"), 5.0);
  int top = spam ? 10 : 5;

  if (ratio < 0)
    return g_strdup ("0");
  if (percent)
    return g_strdup_printf ("%d", (int) (ratio * 100 + 0.5));
  return g_strdup_printf ("%d", CLAMP ((int) (ratio * top + 0.5), 1, top));
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
  g_autofree char *value = test_value (run, node->def->name[0] == 's', ms_sv_node_has_tag (node, TAG_PERCENT));
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
