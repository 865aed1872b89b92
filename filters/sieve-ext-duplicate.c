/* mailsift Sieve engine - duplicate (RFC 7352).
 *
 * duplicate [:handle <string>] [:header <name> / :uniqueid <value>]
 *           [:seconds <n>] [:last]
 *
 * The ID (by default the Message-ID, decoded and trimmed as header tests
 * see it; the first field when there are several) is tracked by the
 * SHA-256 of the handle and the ID, never in clear. The test is true when
 * the ID was recorded within the period (:seconds, default 7 days, at
 * most 30), counted from when tracking of it started, or with :last from
 * the last time a delivered message's script tested it. The engine only
 * reads the history (ms_engine_get_duplicate_lookup); the result lists
 * every ID tested, and the agent records them in the transaction that
 * delivers the message, so a failed script or delivery records nothing
 * (RFC 7352 3) and an ID met earlier in the same run is no duplicate.
 * A read error makes the test false: RFC 7352 allows a missed duplicate,
 * never a false one. */
#include "sieve-core.h"

#include "header-edit.h"

#include <string.h>

/* RFC 7352 3: "around 7 days" by default, and a site maximum. */
#define DEFAULT_SECONDS (7 * 86400)

enum {
  TAG_HANDLE = MS_SV_TAG_OWN,
  TAG_HEADER,
  TAG_UNIQUEID,
  TAG_SECONDS,
};

static const MsSvTagDef duplicate_tags[] = {
  { "handle", TAG_HANDLE, 's', NULL, NULL },
  { "header", TAG_HEADER, 's', "id", NULL },
  { "uniqueid", TAG_UNIQUEID, 's', "id", NULL },
  { "seconds", TAG_SECONDS, 'n', NULL, NULL },
  { "last", MS_SV_TAG_LAST, 0, NULL, NULL },
  { NULL },
};

/* The ID to track, or NULL when there is none (no such field, or an
 * invalid field name: RFC 7352 3 says false, not an error). */
static const char *
tracked_id (MsSvRun *run, const MsSvNode *node, gsize *len_out)
{
  const char *name = "Message-ID", *value;
  gsize len;

  if (ms_sv_node_has_tag (node, TAG_UNIQUEID))
    return ms_sv_expand (run, ms_sv_arg_str (node->tagval[TAG_UNIQUEID], 0), len_out);
  if (ms_sv_node_has_tag (node, TAG_HEADER))
    {
      name = ms_sv_expand (run, ms_sv_arg_str (node->tagval[TAG_HEADER], 0), &len);
      if (!ms_header_field_name_is_valid (name, len))
        return NULL;
    }
  value = ms_header_view_get_first (run->view, name);
  if (value)
    *len_out = strlen (value);
  return value;
}

/* Hex SHA-256 of the handle (absent and empty differ) and the ID.
 * Transfer full. */
static char *
tracking_hash (MsSvRun *run, const MsSvNode *node, const char *id, gsize id_len)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  if (ms_sv_node_has_tag (node, TAG_HANDLE))
    {
      gsize len;
      const char *handle = ms_sv_expand (run, ms_sv_arg_str (node->tagval[TAG_HANDLE], 0), &len);
      g_checksum_update (sum, (const guchar *) "H", 1);
      g_checksum_update (sum, (const guchar *) handle, (gssize) len);
    }
  g_checksum_update (sum, (const guchar *) "", 1);
  g_checksum_update (sum, (const guchar *) id, (gssize) id_len);
  return g_strdup (g_checksum_get_string (sum));
}

/* The agent's records of this fetch batch that are not committed yet:
 * options "duplicate.pending=HASH SEEN", SEEN 0 when tracking restarts. */
static gboolean
pending (const MsFilterRequest *req, const char *hash, gboolean *seen_out)
{
  static const char key[] = "duplicate.pending=";

  for (guint i = 0; req->options && req->options[i]; i++)
    {
      const char *o = req->options[i];
      if (strncmp (o, key, sizeof key - 1) == 0 && strncmp (o + sizeof key - 1, hash, 64) == 0
          && o[sizeof key - 1 + 64] == ' ')
        {
          *seen_out = o[sizeof key - 1 + 65] == '1';
          return TRUE;
        }
    }
  return FALSE;
}

static int
test_duplicate (MsSvRun *run, const MsSvNode *node)
{
  MsDuplicateLookup lookup = ms_engine_get_duplicate_lookup ();
  const char *state_dir = ms_filter_request_option (run->req, "state_dir");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 first = 0, last = 0;
  guint64 seconds = DEFAULT_SECONDS;
  gboolean found = FALSE, pending_seen, seen;
  g_autofree char *hash = NULL;
  gsize id_len = 0;
  const char *id = tracked_id (run, node, &id_len);

  if (ms_sv_node_has_tag (node, TAG_SECONDS))
    seconds = MIN (node->tagval[TAG_SECONDS]->number, (guint64) MS_DUPLICATE_MAX_SECONDS);
  if (id == NULL || seconds == 0)
    return 0;
  hash = tracking_hash (run, node, id, id_len);
  if (lookup && state_dir)
    {
      g_autoptr (GError) error = NULL;
      if (!lookup (state_dir, hash, &found, &first, &last, &error))
        {
          ms_sv_run_warning (run, node, "duplicate: the history cannot be read (%s); taken as not seen",
                             error->message);
          found = FALSE;
        }
    }
  if (pending (run->req, hash, &pending_seen))
    {
      if (!found || !pending_seen)
        first = now;
      last = now;
      found = TRUE;
    }
  seen = found && (ms_sv_node_has_tag (node, MS_SV_TAG_LAST) ? last : first) >= now - (gint64) seconds;
  ms_filter_result_add_duplicate (run->result, hash, seen);
  ms_sv_run_trace (run, "line %u: duplicate: ID %s %s", node->line, hash,
                   seen ? "seen within the period" : "not seen within the period");
  return seen;
}

static const MsSvTagDef *const tags[] = { duplicate_tags, NULL };
static const MsSvDef def_duplicate = { "duplicate", MS_SV_TEST, "", tags, 0, FALSE, NULL, NULL, test_duplicate };
static const MsSvDef *const defs[] = { &def_duplicate, NULL };
const MsSvExtension ms_sv_ext_duplicate = { "duplicate", defs };
