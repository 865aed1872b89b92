/* mailsift Sieve engine - date and index (RFC 5260): the date and
 * currentdate tests, with :zone, :originalzone and every date part.
 * (:index and :last are shared tags, see sieve-core.c.) */
#include "sieve-core.h"

#include <string.h>

enum {
  TAG_ZONE = MS_SV_TAG_OWN,
  TAG_ORIGINALZONE,
};

static const char *const parts[] = { "year", "month", "day", "date", "julian", "hour", "minute", "second",
                                     "time", "iso8601", "std11", "zone", "weekday", NULL };

static gboolean
part_is_known (const char *p)
{
  for (guint i = 0; parts[i]; i++)
    if (g_ascii_strcasecmp (parts[i], p) == 0)
      return TRUE;
  return FALSE;
}

/* "+hhmm" / "-hhmm" -> seconds east of UTC; FALSE when malformed. */
static gboolean
parse_offset (const char *s, int *secs)
{
  int h, m;

  if ((s[0] != '+' && s[0] != '-') || strlen (s) != 5)
    return FALSE;
  for (int i = 1; i < 5; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  h = (s[1] - '0') * 10 + (s[2] - '0');
  m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59)
    return FALSE;
  *secs = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
  return TRUE;
}

static gboolean
validate_zone (MsSvValidator *v, MsSvNode *node)
{
  int secs;

  if (ms_sv_node_has_tag (node, TAG_ZONE) && ms_sv_node_has_tag (node, TAG_ORIGINALZONE))
    {
      ms_sv_validator_error (v, node, NULL, "':zone' and ':originalzone' cannot be used together");
      return FALSE;
    }
  if (ms_sv_node_has_tag (node, TAG_ZONE))
    {
      const MsSvStr *z = ms_sv_arg_str (node->tagval[TAG_ZONE], 0);
      if (!z->vars && !parse_offset (z->str, &secs))
        ms_sv_validator_warning (v, node, node->tagval[TAG_ZONE],
                                 "time zone \"%s\" is not +hhmm or -hhmm; the local zone is used", z->str);
    }
  return TRUE;
}

static gboolean
validate_date (MsSvValidator *v, MsSvNode *node)
{
  const MsSvStr *part = ms_sv_arg_str (node->pos[node->npos - 2], 0);

  /* an unknown part is never true (Pigeonhole warns and goes on) */
  if (!part->vars && !part_is_known (part->str))
    ms_sv_validator_warning (v, node, node->pos[node->npos - 2], "unknown date part \"%s\": the test is false",
                             part->str);
  return validate_zone (v, node) && ms_sv_validate_match (v, node, node->pos[node->npos - 1]);
}

/* ---------------------------------------------------------------- parsing */

static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                      "jul", "aug", "sep", "oct", "nov", "dec" };

static const struct {
  const char *name;
  int hours;
} zone_names[] = { { "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -5 }, { "EDT", -4 }, { "CST", -6 },
                   { "CDT", -5 }, { "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 } };

static const char *
skip_cfws (const char *p)
{
  for (;;)
    {
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p != '(')
        return p;
      for (int depth = 0; *p; p++)
        {
          if (*p == '\\' && p[1])
            p++;
          else if (*p == '(')
            depth++;
          else if (*p == ')' && --depth == 0)
            {
              p++;
              break;
            }
        }
    }
}

static gboolean
read_int (const char **pp, int min_digits, int max_digits, int *out)
{
  const char *p = *pp;
  int n = 0, d = 0;

  while (g_ascii_isdigit (*p) && d < max_digits)
    n = n * 10 + (*p++ - '0'), d++;
  if (d < min_digits)
    return FALSE;
  *out = n;
  *pp = p;
  return TRUE;
}

/* RFC 5322 date-time (with the obsolete forms people still send):
 * [day ","] day month year hour ":" minute [":" second] zone. */
static GDateTime *
parse_rfc5322_date (const char *s, int *offset_out)
{
  const char *p = skip_cfws (s);
  int day, year, hour, minute, second = 0, month = -1, offset = 0;
  g_autoptr (GTimeZone) tz = NULL;

  if (g_ascii_isalpha (*p))
    {
      while (g_ascii_isalpha (*p))
        p++;
      p = skip_cfws (p);
      if (*p == ',')
        p++;
      p = skip_cfws (p);
    }
  if (!read_int (&p, 1, 2, &day))
    return NULL;
  p = skip_cfws (p);
  for (int m = 0; m < 12; m++)
    if (g_ascii_strncasecmp (p, months[m], 3) == 0)
      month = m + 1;
  if (month < 0)
    return NULL;
  p += 3;
  while (g_ascii_isalpha (*p))
    p++;
  p = skip_cfws (p);
  if (!read_int (&p, 2, 4, &year))
    return NULL;
  if (p[-3] == ' ' || !g_ascii_isdigit (p[-3]))
    year += year < 50 ? 2000 : 1900; /* two-digit years (RFC 5322 4.3) */
  p = skip_cfws (p);
  if (!read_int (&p, 1, 2, &hour) || *p++ != ':' || !read_int (&p, 1, 2, &minute))
    return NULL;
  if (*p == ':')
    {
      p++;
      if (!read_int (&p, 1, 2, &second))
        return NULL;
    }
  p = skip_cfws (p);
  if (*p == '+' || *p == '-')
    {
      char z[6];
      g_strlcpy (z, p, sizeof z);
      if (!parse_offset (z, &offset))
        return NULL;
    }
  else
    {
      gboolean found = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (zone_names); i++)
        if (g_ascii_strncasecmp (p, zone_names[i].name, strlen (zone_names[i].name)) == 0
            && !g_ascii_isalpha (p[strlen (zone_names[i].name)]))
          offset = zone_names[i].hours * 3600, found = TRUE;
      if (!found)
        offset = 0; /* RFC 5322 4.3: an unknown zone is "-0000" */
    }
  if (hour > 23 || minute > 59 || second > 60 || day < 1 || day > 31)
    return NULL;
  tz = g_time_zone_new_offset (offset);
  *offset_out = offset;
  return g_date_time_new (tz, year, month, day, hour, minute, MIN (second, 59));
}

/* ---------------------------------------------------------------- parts */

static char *
date_part (GDateTime *dt, const char *part)
{
  int offset = (int) (g_date_time_get_utc_offset (dt) / G_USEC_PER_SEC);
  char zone[8];

  g_snprintf (zone, sizeof zone, "%c%02d%02d", offset < 0 ? '-' : '+', ABS (offset) / 3600, ABS (offset) % 3600 / 60);
  if (g_ascii_strcasecmp (part, "year") == 0)
    return g_strdup_printf ("%04d", g_date_time_get_year (dt));
  if (g_ascii_strcasecmp (part, "month") == 0)
    return g_strdup_printf ("%02d", g_date_time_get_month (dt));
  if (g_ascii_strcasecmp (part, "day") == 0)
    return g_strdup_printf ("%02d", g_date_time_get_day_of_month (dt));
  if (g_ascii_strcasecmp (part, "date") == 0)
    return g_date_time_format (dt, "%Y-%m-%d");
  if (g_ascii_strcasecmp (part, "julian") == 0)
    {
      /* Modified Julian Day: days since 1858-11-17 */
      GDate d, epoch;
      g_date_set_dmy (&d, g_date_time_get_day_of_month (dt), g_date_time_get_month (dt), g_date_time_get_year (dt));
      g_date_set_dmy (&epoch, 17, 11, 1858);
      return g_strdup_printf ("%d", g_date_days_between (&epoch, &d));
    }
  if (g_ascii_strcasecmp (part, "hour") == 0)
    return g_strdup_printf ("%02d", g_date_time_get_hour (dt));
  if (g_ascii_strcasecmp (part, "minute") == 0)
    return g_strdup_printf ("%02d", g_date_time_get_minute (dt));
  if (g_ascii_strcasecmp (part, "second") == 0)
    return g_strdup_printf ("%02d", g_date_time_get_second (dt));
  if (g_ascii_strcasecmp (part, "time") == 0)
    return g_date_time_format (dt, "%H:%M:%S");
  if (g_ascii_strcasecmp (part, "iso8601") == 0)
    {
      g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
      return g_strdup_printf ("%s%c%02d:%02d", base, offset < 0 ? '-' : '+', ABS (offset) / 3600,
                              ABS (offset) % 3600 / 60);
    }
  if (g_ascii_strcasecmp (part, "std11") == 0)
    {
      static const char *const wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
      static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
      return g_strdup_printf ("%s, %d %s %04d %02d:%02d:%02d %s", wd[g_date_time_get_day_of_week (dt) - 1],
                              g_date_time_get_day_of_month (dt), mo[g_date_time_get_month (dt) - 1],
                              g_date_time_get_year (dt), g_date_time_get_hour (dt), g_date_time_get_minute (dt),
                              g_date_time_get_second (dt), zone);
    }
  if (g_ascii_strcasecmp (part, "zone") == 0)
    return g_strdup (zone);
  if (g_ascii_strcasecmp (part, "weekday") == 0)
    return g_strdup_printf ("%d", g_date_time_get_day_of_week (dt) % 7); /* Sunday is 0 */
  return NULL;
}

/* Move @dt into the zone the test asks for: :zone, :originalzone (as it
 * is), or the local zone. */
static GDateTime *
to_zone (MsSvRun *run, const MsSvNode *node, GDateTime *dt)
{
  int secs;

  if (ms_sv_node_has_tag (node, TAG_ORIGINALZONE))
    return g_date_time_ref (dt);
  if (ms_sv_node_has_tag (node, TAG_ZONE)
      && parse_offset (ms_sv_expand (run, ms_sv_arg_str (node->tagval[TAG_ZONE], 0), NULL), &secs))
    {
      g_autoptr (GTimeZone) tz = g_time_zone_new_offset (secs);
      return g_date_time_to_timezone (dt, tz);
    }
  return g_date_time_to_local (dt);
}

static int
match_date (MsSvRun *run, const MsSvNode *node, GDateTime *dt, const char *part, MsSvMatching *st)
{
  g_autoptr (GDateTime) z = to_zone (run, node, dt);
  g_autofree char *value = z ? date_part (z, part) : NULL;

  return value && ms_sv_match_value (run, st, value, strlen (value));
}

static int
test_date (MsSvRun *run, const MsSvNode *node)
{
  const char *name = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), NULL);
  const char *part = ms_sv_expand (run, ms_sv_arg_str (node->pos[1], 0), NULL);
  const char *one[2];
  const char *const *values = ms_sv_header_values (run, node, run->view, name, one);
  MsSvMatching st;

  ms_sv_match_begin (run, &st, node->data);
  for (guint i = 0; values && values[i]; i++)
    {
      const char *v = values[i];
      int offset;
      g_autoptr (GDateTime) dt = NULL;
      /* Received: the date is after the last ';' */
      if (g_ascii_strcasecmp (name, "received") == 0 && strrchr (v, ';'))
        v = strrchr (v, ';') + 1;
      dt = parse_rfc5322_date (v, &offset);
      if (dt && match_date (run, node, dt, part, &st))
        return 1;
    }
  return ms_sv_match_end (run, &st);
}

static int
test_currentdate (MsSvRun *run, const MsSvNode *node)
{
  const char *part = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  MsSvMatching st;

  ms_sv_match_begin (run, &st, node->data);
  if (match_date (run, node, now, part, &st))
    return 1;
  return ms_sv_match_end (run, &st);
}

static const MsSvTagDef date_tags[] = {
  { "zone", TAG_ZONE, 's', NULL, NULL },
  { "originalzone", TAG_ORIGINALZONE, 0, NULL, NULL },
  { NULL },
};
static const MsSvTagDef current_tags[] = {
  { "zone", TAG_ZONE, 's', NULL, NULL },
  { NULL },
};
static const MsSvTagDef *const date_tag_tables[] = { date_tags, ms_sv_tags_match, ms_sv_tags_index, NULL };
static const MsSvTagDef *const current_tag_tables[] = { current_tags, ms_sv_tags_match, NULL };
static const MsSvDef def_date = { "date", MS_SV_TEST, "ssl", date_tag_tables, 0, FALSE, validate_date, NULL, test_date };
static const MsSvDef def_currentdate = { "currentdate", MS_SV_TEST, "sl", current_tag_tables, 0, FALSE,
                                         validate_date, NULL, test_currentdate };
static const MsSvDef *const defs[] = { &def_date, &def_currentdate, NULL };
const MsSvExtension ms_sv_ext_date = { "date", defs };
