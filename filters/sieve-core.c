/* mailsift Sieve engine - the core language of RFC 5228: control
 * commands (require, if, elsif, else, stop), keep and discard, and the
 * tests address, allof, anyof, exists, false, header, not, size, true.
 * Also the shared tag tables and the address walk that address,
 * envelope and other tests use. */
#include "sieve-core.h"

#include "address.h"
#include "sieve-interp.h"
#include "sieve-mime.h"

#include <string.h>

const MsSvTagDef ms_sv_tags_match[] = {
  { "comparator", MS_SV_TAG_COMPARATOR, 's', NULL, NULL },
  { "is", MS_SV_TAG_IS, 0, "match-type", NULL },
  { "contains", MS_SV_TAG_CONTAINS, 0, "match-type", NULL },
  { "matches", MS_SV_TAG_MATCHES, 0, "match-type", NULL },
  { "regex", MS_SV_TAG_REGEX, 0, "match-type", "regex" },
  { "value", MS_SV_TAG_VALUE, 's', "match-type", "relational" },
  { "count", MS_SV_TAG_COUNT, 's', "match-type", "relational" },
  { NULL },
};

const MsSvTagDef ms_sv_tags_address_part[] = {
  { "all", MS_SV_TAG_ALL, 0, "address-part", NULL },
  { "localpart", MS_SV_TAG_LOCALPART, 0, "address-part", NULL },
  { "domain", MS_SV_TAG_DOMAIN, 0, "address-part", NULL },
  { "user", MS_SV_TAG_USER, 0, "address-part", "subaddress" },
  { "detail", MS_SV_TAG_DETAIL, 0, "address-part", "subaddress" },
  { NULL },
};

const MsSvTagDef ms_sv_tags_index[] = {
  { "index", MS_SV_TAG_INDEX, 'n', NULL, "index" },
  { "last", MS_SV_TAG_LAST, 0, NULL, "index" },
  { NULL },
};

/* ---------------------------------------------------------------- helpers */

void
ms_sv_free_match (gpointer data)
{
  MsSvMatch *m = data;

  ms_sv_match_clear (m);
  g_free (m);
}

gboolean
ms_sv_validate_match (MsSvValidator *v, MsSvNode *node, const MsSvArg *keys)
{
  MsSvMatch *m = g_new0 (MsSvMatch, 1);
  gboolean ok = ms_sv_match_compile (v, node, keys, m);

  node->data = m;
  node->data_free = ms_sv_free_match;
  if (ms_sv_node_has_tag (node, MS_SV_TAG_LAST) && !ms_sv_node_has_tag (node, MS_SV_TAG_INDEX))
    {
      ms_sv_validator_error (v, node, node->tagval[MS_SV_TAG_LAST], "':last' needs ':index'");
      ok = FALSE;
    }
  if (ms_sv_node_has_tag (node, MS_SV_TAG_INDEX) && node->tagval[MS_SV_TAG_INDEX]->number == 0)
    {
      ms_sv_validator_error (v, node, node->tagval[MS_SV_TAG_INDEX], "':index' counts from 1");
      ok = FALSE;
    }
  return ok;
}

MsSvAddressPart
ms_sv_address_part (const MsSvNode *node)
{
  for (guint id = MS_SV_TAG_ALL; id <= MS_SV_TAG_DETAIL; id++)
    if (ms_sv_node_has_tag (node, id))
      return (MsSvAddressPart) (id - MS_SV_TAG_ALL);
  return MS_SV_PART_ALL;
}

/* An addr-spec and its parts as the address-part tags see them. The
 * tests of a script read the same From again and again, so test_address
 * parses each header value and splits each address once per run (see
 * MsSvRun.addresses). */
typedef struct
{
  char *part[MS_SV_PART_DETAIL + 1]; /* by MsSvAddressPart: the addr-spec itself at
                                      * MS_SV_PART_ALL; NULL for a part it lacks
                                      * (no domain, no detail) */
  gboolean split;                    /* the parts other than ALL are set */
} SvAddress;

typedef struct
{
  guint n;
  SvAddress *addrs;
} SvAddressList;

static void
address_clear (SvAddress *a)
{
  for (guint i = 0; i < G_N_ELEMENTS (a->part); i++)
    g_clear_pointer (&a->part[i], g_free);
}

static void
address_list_free (gpointer data)
{
  SvAddressList *list = data;

  for (guint i = 0; i < list->n; i++)
    address_clear (&list->addrs[i]);
  g_free (list->addrs);
  g_free (list);
}

/* A quoted local part is compared without its quotes and escapes
 * ("john smith"@example.org has the local part john smith). */
static char *
unquote_local (char *value /* transfer full */)
{
  GString *plain;

  if (value == NULL || value[0] != '"')
    return value;
  plain = g_string_new (NULL);
  for (const char *p = value + 1; *p && *p != '"'; p++)
    g_string_append_c (plain, *p == '\\' && p[1] ? *++p : *p);
  g_free (value);
  return g_string_free (plain, FALSE);
}

static void
address_split (MsSvRun *run, SvAddress *a)
{
  char *localpart, *user, *detail;

  ms_address_split (a->part[MS_SV_PART_ALL],
                    run->req->subaddress_separator ? run->req->subaddress_separator : "+", &localpart,
                    &a->part[MS_SV_PART_DOMAIN], &user, &detail);
  a->part[MS_SV_PART_LOCALPART] = unquote_local (localpart);
  a->part[MS_SV_PART_USER] = unquote_local (user);
  a->part[MS_SV_PART_DETAIL] = unquote_local (detail);
  a->split = TRUE;
}

static gboolean
match_address_part (MsSvRun *run, MsSvMatching *st, MsSvAddressPart part, SvAddress *a)
{
  const char *value;

  if (part != MS_SV_PART_ALL && !a->split)
    address_split (run, a);
  value = a->part[part];
  /* no detail: this address is not tested */
  if (value == NULL)
    return FALSE;
  return ms_sv_match_value (run, st, value, strlen (value));
}

/* The addresses in header value @value (owned by a view of the run),
 * parsed at the first test that asks. Transfer none. */
static SvAddressList *
address_list_of (MsSvRun *run, const char *value)
{
  SvAddressList *list;
  char **addrs;

  if (run->addresses == NULL)
    run->addresses = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, address_list_free);
  list = g_hash_table_lookup (run->addresses, value);
  if (list != NULL)
    return list;
  addrs = ms_address_list_parse (value);
  list = g_new0 (SvAddressList, 1);
  list->n = g_strv_length (addrs);
  list->addrs = g_new0 (SvAddress, list->n);
  for (guint i = 0; i < list->n; i++)
    list->addrs[i].part[MS_SV_PART_ALL] = addrs[i];
  g_free (addrs); /* the strings moved to the list */
  g_hash_table_insert (run->addresses, (gpointer) value, list);
  return list;
}

gboolean
ms_sv_match_address (MsSvRun *run, MsSvMatching *st, MsSvAddressPart part, const char *addr)
{
  SvAddress a = { { NULL }, FALSE };
  gboolean r;

  if (part == MS_SV_PART_ALL)
    return ms_sv_match_value (run, st, addr, strlen (addr));
  a.part[MS_SV_PART_ALL] = g_strdup (addr);
  r = match_address_part (run, st, part, &a);
  address_clear (&a);
  return r;
}

/* The values of header @name, with :index/:last applied (RFC 5260 6). */
const char *const *
ms_sv_header_values (MsSvRun *run, const MsSvNode *node, MsHeaderView *view, const char *name,
                     const char *one[2])
{
  const char *const *all = ms_header_view_lookup (view, name);
  guint n, idx;

  if (all == NULL || !ms_sv_node_has_tag (node, MS_SV_TAG_INDEX))
    return all;
  n = g_strv_length ((char **) all);
  idx = (guint) MIN (node->tagval[MS_SV_TAG_INDEX]->number, G_MAXUINT);
  if (idx > n)
    return NULL;
  one[0] = ms_sv_node_has_tag (node, MS_SV_TAG_LAST) ? all[n - idx] : all[idx - 1];
  one[1] = NULL;
  return one;
}

/* ---------------------------------------------------------------- control */

static gboolean
exec_stop (MsSvRun *run, const MsSvNode *node)
{
  run->stopped = TRUE;
  return TRUE;
}

static gboolean
exec_require (MsSvRun *run, const MsSvNode *node)
{
  return TRUE;
}

static const MsSvDef def_require = { "require", MS_SV_COMMAND, "l", NULL, 0, FALSE, NULL, exec_require, NULL };
static const MsSvDef def_if = { "if", MS_SV_COMMAND, "", NULL, 1, TRUE, NULL, NULL, NULL };
static const MsSvDef def_elsif = { "elsif", MS_SV_COMMAND, "", NULL, 1, TRUE, NULL, NULL, NULL };
static const MsSvDef def_else = { "else", MS_SV_COMMAND, "", NULL, 0, TRUE, NULL, NULL, NULL };
static const MsSvDef def_stop = { "stop", MS_SV_COMMAND, "", NULL, 0, FALSE, NULL, exec_stop, NULL };

/* ---------------------------------------------------------------- keep, discard */

static gboolean
exec_keep (MsSvRun *run, const MsSvNode *node)
{
  MsAction *a = ms_action_new (MS_ACTION_KEEP, NULL);

  if (!ms_sv_imap4flags_for_action (run, node, a))
    {
      ms_action_free (a);
      return FALSE;
    }
  run->implicit_keep = FALSE;
  return ms_sv_run_add_action (run, node, a);
}

static gboolean
exec_discard (MsSvRun *run, const MsSvNode *node)
{
  run->implicit_keep = FALSE;
  ms_sv_run_trace (run, "line %u: discard", node->line);
  return TRUE;
}

static const MsSvTagDef *const keep_tags[] = { ms_sv_tags_flags, NULL };
static const MsSvDef def_keep = { "keep", MS_SV_COMMAND, "", keep_tags, 0, FALSE, NULL, exec_keep, NULL };
static const MsSvDef def_discard = { "discard", MS_SV_COMMAND, "", NULL, 0, FALSE, NULL, exec_discard, NULL };

/* ---------------------------------------------------------------- redirect */

const MsSvTagDef ms_sv_tags_copy[] = {
  { "copy", MS_SV_TAG_COPY, 0, NULL, "copy" },
  { NULL },
};

/* The addr-spec of a redirect target: a bare address, or one mailbox
 * with a display name ("Name <addr>", RFC 5228 4.2 allows a mailbox).
 * Transfer full; NULL with @why_out when it is no single valid address. */
static char *
redirect_address (const char *target, const char **why_out)
{
  const char *lt = strrchr (target, '<');
  gsize len = strlen (target);
  g_autofree char *inner = NULL;

  if (ms_address_is_valid (target, why_out))
    return g_strdup (target);
  /* only "phrase <addr>": no control character anywhere (no CR/LF
   * smuggled into an SMTP command), nothing after the '>', and a phrase
   * that is not itself an address or a list */
  for (const char *p = target; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return NULL;
  if (lt == NULL || len < 2 || target[len - 1] != '>' || strchr (lt + 1, '<') || memchr (target, '@', lt - target)
      || memchr (target, ',', lt - target) || memchr (target, '>', lt - target))
    return NULL;
  inner = g_strndup (lt + 1, target + len - 1 - (lt + 1));
  if (!ms_address_is_valid (inner, why_out))
    return NULL;
  return g_steal_pointer (&inner);
}

/* @value printable in a message: escaped, and cut at a NUL. */
static char *
field_for_message (const char *value)
{
  return g_strescape (value, NULL);
}

gboolean
ms_sv_validate_field (MsSvValidator *v, const MsSvNode *node, const MsSvArg *arg, const char *what,
                      gboolean address)
{
  for (guint i = 0; arg && arg->strings && i < arg->strings->len; i++)
    {
      const MsSvStr *s = ms_sv_arg_str (arg, i);
      const char *why = s->vars ? NULL : ms_action_field_problem (s->str, s->len, address);
      if (why)
        {
          g_autofree char *shown = field_for_message (s->str);
          ms_sv_validator_error (v, node, arg, "%s \"%s\" is refused: %s; it must be one line "
                                 "of text", what, shown, why);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
ms_sv_run_check_field (MsSvRun *run, const MsSvNode *node, const char *value, gsize len, const char *what,
                       gboolean address)
{
  const char *why = value ? ms_action_field_problem (value, len, address) : NULL;

  if (why)
    {
      g_autofree char *shown = field_for_message (value);
      ms_sv_run_error (run, node, "%s \"%s\" is refused: %s; it must be one line of text", what,
                       shown, why);
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_redirect (MsSvValidator *v, MsSvNode *node)
{
  const MsSvStr *to = ms_sv_arg_str (node->pos[0], 0);
  const char *why = "not one address";
  g_autofree char *addr = to->vars ? NULL : redirect_address (to->str, &why);

  if (!to->vars && addr == NULL)
    {
      ms_sv_validator_error (v, node, node->pos[0], "redirect to an invalid address \"%s\": %s", to->str, why);
      return FALSE;
    }
  return TRUE;
}

static gboolean
exec_redirect (MsSvRun *run, const MsSvNode *node)
{
  const char *target = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), NULL);
  const char *why = "not one address";
  g_autofree char *to = redirect_address (target, &why);

  if (to == NULL)
    {
      ms_sv_run_error (run, node, "redirect to an invalid address \"%s\": %s", target, why);
      return FALSE;
    }
  if (!ms_sv_node_has_tag (node, MS_SV_TAG_COPY))
    run->implicit_keep = FALSE;
  return ms_sv_run_add_action (run, node, ms_action_new (MS_ACTION_REDIRECT, to));
}

static const MsSvTagDef *const redirect_tags[] = { ms_sv_tags_copy, NULL };
static const MsSvDef def_redirect = { "redirect", MS_SV_COMMAND, "s", redirect_tags, 0, FALSE,
                                      validate_redirect, exec_redirect, NULL };

/* ---------------------------------------------------------------- tests */

static int
test_true (MsSvRun *run, const MsSvNode *node)
{
  return 1;
}

static int
test_false (MsSvRun *run, const MsSvNode *node)
{
  return 0;
}

static int
test_not (MsSvRun *run, const MsSvNode *node)
{
  int r = ms_sv_run_test (run, node->tests->pdata[0]);

  return r < 0 ? r : !r;
}

static int
test_allof (MsSvRun *run, const MsSvNode *node)
{
  for (guint i = 0; i < node->tests->len; i++)
    {
      int r = ms_sv_run_test (run, node->tests->pdata[i]);
      if (r != 1)
        return r;
    }
  return 1;
}

static int
test_anyof (MsSvRun *run, const MsSvNode *node)
{
  for (guint i = 0; i < node->tests->len; i++)
    {
      int r = ms_sv_run_test (run, node->tests->pdata[i]);
      if (r != 0)
        return r;
    }
  return 0;
}

/* The header views @node reads: without :mime only the message's own,
 * with no work; else those ms_sv_mime_views picks (in run->views, which
 * header, address and exists share: they run no other test while they
 * read it). FALSE after a runtime error. */
static gboolean
header_views (MsSvRun *run, const MsSvNode *node, MsHeaderView *const **views_out, guint *n_out)
{
  if (!ms_sv_node_has_tag (node, MS_SV_TAG_MIME))
    {
      *views_out = &run->view;
      *n_out = 1;
      return TRUE;
    }
  if (!ms_sv_mime_views (run, node, run->views))
    return FALSE;
  *views_out = (MsHeaderView *const *) run->views->pdata;
  *n_out = run->views->len;
  return TRUE;
}

/* With :mime :anychild: true when one part has every field (RFC 5703
 * 4.3). */
static int
test_exists (MsSvRun *run, const MsSvNode *node)
{
  const char *const *names = ms_sv_expand_list (run, node->pos[0]);
  MsHeaderView *const *views;
  guint n_views;

  if (!header_views (run, node, &views, &n_views))
    return -1;
  for (guint v = 0; v < n_views; v++)
    {
      gboolean all = TRUE;
      for (guint i = 0; names[i] && all; i++)
        all = ms_header_view_lookup (views[v], names[i]) != NULL;
      if (all)
        return 1;
    }
  return 0;
}

static gboolean
validate_exists (MsSvValidator *v, MsSvNode *node)
{
  return ms_sv_mime_validate_tags (v, node);
}

static gboolean
validate_size (MsSvValidator *v, MsSvNode *node)
{
  if (!ms_sv_node_has_tag (node, MS_SV_TAG_OWN) && !ms_sv_node_has_tag (node, MS_SV_TAG_OWN + 1))
    {
      ms_sv_validator_error (v, node, NULL, "size needs :over or :under");
      return FALSE;
    }
  return TRUE;
}

static int
test_size (MsSvRun *run, const MsSvNode *node)
{
  guint64 limit = node->pos[0]->number;

  if (ms_sv_node_has_tag (node, MS_SV_TAG_OWN))
    return run->req->size > limit;
  return run->req->size < limit;
}

static gboolean
validate_header (MsSvValidator *v, MsSvNode *node)
{
  gboolean ok = ms_sv_mime_validate_tags (v, node);

  return ms_sv_validate_match (v, node, node->pos[1]) && ok;
}

static int
test_header (MsSvRun *run, const MsSvNode *node)
{
  const MsSvMatch *m = node->data;
  const char *const *names = ms_sv_expand_list (run, node->pos[0]);
  gboolean option = ms_sv_mime_has_option (node);
  MsHeaderView *const *views;
  guint n_views;
  MsSvMatching st;

  if (!header_views (run, node, &views, &n_views))
    return -1;
  ms_sv_match_begin (run, &st, m);
  for (guint v = 0; v < n_views; v++)
    for (guint i = 0; names[i]; i++)
      {
        const char *one[2];
        const char *const *values = ms_sv_header_values (run, node, views[v], names[i], one);
        for (guint k = 0; values && values[k]; k++)
          if (option ? ms_sv_mime_match_option (run, &st, node, names[i], values[k])
                     : ms_sv_match_value (run, &st, values[k], strlen (values[k])))
            return 1;
      }
  return ms_sv_match_end (run, &st);
}

/* RFC 5228 5.1: address applies to headers that hold addresses; like
 * Pigeonhole, a literal name of another header is an error. */
static gboolean
validate_address (MsSvValidator *v, MsSvNode *node)
{
  static const char *const allowed[] = {
    "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-to",
    "resent-cc", "resent-bcc", "resent-reply-to", "return-path", "delivered-to", "x-original-to",
    "envelope-to", "x-envelope-to", "errors-to", "disposition-notification-to", "mail-followup-to",
    "mail-reply-to", "apparently-to", "original-recipient", "x-delivered-to", "list-post", NULL,
  };
  const MsSvArg *names = node->pos[0];
  gboolean ok = TRUE;

  for (guint i = 0; i < names->strings->len; i++)
    {
      const MsSvStr *n = ms_sv_arg_str (names, i);
      gboolean known = n->vars;
      for (guint k = 0; allowed[k] && !known; k++)
        known = g_ascii_strcasecmp (n->str, allowed[k]) == 0;
      if (!known)
        {
          ms_sv_validator_error (v, node, names, "the address test needs a header that holds addresses, "
                                 "not \"%s\" (use header for it)", n->str);
          ok = FALSE;
        }
    }
  return validate_header (v, node) && ok;
}

static int
test_address (MsSvRun *run, const MsSvNode *node)
{
  const MsSvMatch *m = node->data;
  const char *const *names = ms_sv_expand_list (run, node->pos[0]);
  MsSvAddressPart part = ms_sv_address_part (node);
  MsHeaderView *const *views;
  guint n_views;
  MsSvMatching st;

  if (!header_views (run, node, &views, &n_views))
    return -1;
  ms_sv_match_begin (run, &st, m);
  for (guint v = 0; v < n_views; v++)
    for (guint i = 0; names[i]; i++)
      {
        const char *one[2];
        const char *const *values = ms_sv_header_values (run, node, views[v], names[i], one);
        for (guint k = 0; values && values[k]; k++)
          {
            SvAddressList *list = address_list_of (run, values[k]);
            for (guint j = 0; j < list->n; j++)
              if (match_address_part (run, &st, part, &list->addrs[j]))
                return 1;
          }
      }
  return ms_sv_match_end (run, &st);
}

static const MsSvTagDef size_tags[] = {
  { "over", MS_SV_TAG_OWN, 0, "size", NULL },
  { "under", MS_SV_TAG_OWN + 1, 0, "size", NULL },
  { NULL },
};
static const MsSvTagDef *const size_tag_tables[] = { size_tags, NULL };
static const MsSvTagDef *const header_tags[] = { ms_sv_tags_match, ms_sv_tags_index, ms_sv_tags_mime,
                                                 ms_sv_tags_mime_options, NULL };
static const MsSvTagDef *const address_tags[] = { ms_sv_tags_match, ms_sv_tags_address_part, ms_sv_tags_index,
                                                  ms_sv_tags_mime, NULL };
static const MsSvTagDef *const exists_tags[] = { ms_sv_tags_mime, NULL };

static const MsSvDef def_true = { "true", MS_SV_TEST, "", NULL, 0, FALSE, NULL, NULL, test_true };
static const MsSvDef def_false = { "false", MS_SV_TEST, "", NULL, 0, FALSE, NULL, NULL, test_false };
static const MsSvDef def_not = { "not", MS_SV_TEST, "", NULL, 1, FALSE, NULL, NULL, test_not };
static const MsSvDef def_allof = { "allof", MS_SV_TEST, "", NULL, -1, FALSE, NULL, NULL, test_allof };
static const MsSvDef def_anyof = { "anyof", MS_SV_TEST, "", NULL, -1, FALSE, NULL, NULL, test_anyof };
static const MsSvDef def_exists = { "exists", MS_SV_TEST, "l", exists_tags, 0, FALSE, validate_exists, NULL, test_exists };
static const MsSvDef def_size = { "size", MS_SV_TEST, "n", size_tag_tables, 0, FALSE, validate_size, NULL, test_size };
static const MsSvDef def_header = { "header", MS_SV_TEST, "ll", header_tags, 0, FALSE, validate_header, NULL, test_header };
static const MsSvDef def_address = { "address", MS_SV_TEST, "ll", address_tags, 0, FALSE, validate_address, NULL, test_address };

static const MsSvDef *const core_defs[] = {
  &def_require, &def_if, &def_elsif, &def_else, &def_stop, &def_keep, &def_discard, &def_redirect,
  &def_true, &def_false, &def_not, &def_allof, &def_anyof, &def_exists, &def_size,
  &def_header, &def_address, NULL,
};

const MsSvExtension ms_sv_ext_core = { "", core_defs };
