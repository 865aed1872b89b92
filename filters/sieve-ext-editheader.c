/* mailsift Sieve engine - editheader (RFC 5293): addheader and
 * deleteheader.
 *
 * Each change is made to the header at once, so later tests see it
 * (RFC 5293 7), and recorded in the result: the agent makes the same
 * changes to the copies that keep, fileinto and redirect deliver after
 * it, as Pigeonhole does (an action delivers the message as it was when
 * the action ran; the implicit keep gets every change). Reject notices
 * and notifications use the message as it came.
 *
 * Received, Auto-Submitted and X-Mailsift-Redirected are protected
 * (ms_header_field_is_protected): a script that tries to add or delete
 * them is not stopped, the attempt is ignored with a warning, as
 * RFC 5293 6 and Pigeonhole do. An invalid field name, or a value that
 * cannot be a header value, is an error (at compile time when the
 * string is literal), so the message is kept unchanged. */
#include "sieve-core.h"

#include <string.h>

/* The longest value of a deleted field that is kept to show it. */
#define SHOWN_MAX 998

static const MsSvTagDef addheader_tags[] = {
  { "last", MS_SV_TAG_LAST, 0, NULL, NULL },
  { NULL },
};

/* deleteheader's :index and :last are its own (RFC 5293 5), not the
 * index extension's */
static const MsSvTagDef deleteheader_tags[] = {
  { "index", MS_SV_TAG_INDEX, 'n', NULL, NULL },
  { "last", MS_SV_TAG_LAST, 0, NULL, NULL },
  { NULL },
};

/* For messages: a name as the script wrote it, with what is not
 * printable escaped. Transfer full. */
static char *
shown (const char *s, gsize len)
{
  g_autofree char *copy = g_strndup (s, len);

  return g_strescape (copy, NULL);
}

/* Compile-time checks of a literal field name; FALSE after an error. */
static gboolean
validate_name (MsSvValidator *v, MsSvNode *node, const char *command, gboolean adding)
{
  const MsSvStr *name = ms_sv_arg_str (node->pos[0], 0);
  g_autofree char *text = NULL;

  if (name->vars)
    return TRUE;
  text = shown (name->str, name->len);
  if (!ms_header_field_name_is_valid (name->str, name->len))
    {
      ms_sv_validator_error (v, node, node->pos[0], "%s: \"%s\" is not a valid header field name", command, text);
      return FALSE;
    }
  if (ms_header_field_is_protected (name->str))
    ms_sv_validator_warning (v, node, node->pos[0], "%s: %s is protected: scripts cannot %s it, so this is ignored",
                             command, text, adding ? "add" : "delete");
  return TRUE;
}

/* The expanded field name; NULL after a runtime error, and *@skip when
 * the field is protected (the command does nothing). */
static const char *
run_name (MsSvRun *run, const MsSvNode *node, const char *command, gboolean *skip, gsize *len_out)
{
  gsize len;
  const char *name = ms_sv_expand (run, ms_sv_arg_str (node->pos[0], 0), &len);
  g_autofree char *text = shown (name, len);

  *skip = FALSE;
  *len_out = len;
  if (!ms_header_field_name_is_valid (name, len))
    {
      ms_sv_run_error (run, node, "%s: \"%s\" is not a valid header field name", command, text);
      return NULL;
    }
  if (ms_header_field_is_protected (name))
    {
      ms_sv_run_warning (run, node, "%s: %s is protected; ignored", command, text);
      *skip = TRUE;
    }
  return name;
}

/* ---------------------------------------------------------------- addheader */

static gboolean
validate_addheader (MsSvValidator *v, MsSvNode *node)
{
  const MsSvStr *name = ms_sv_arg_str (node->pos[0], 0);
  const MsSvStr *value = ms_sv_arg_str (node->pos[1], 0);
  const char *why = NULL;
  g_autofree char *body = NULL;

  if (!validate_name (v, node, "addheader", TRUE))
    return FALSE;
  if (value->vars)
    return TRUE;
  body = ms_header_value_encode (value->str, value->len, name->vars ? 0 : name->len, &why);
  if (body == NULL)
    {
      ms_sv_validator_error (v, node, node->pos[1], "addheader: the value cannot be a header value: %s", why);
      return FALSE;
    }
  return TRUE;
}

static gboolean
exec_addheader (MsSvRun *run, const MsSvNode *node)
{
  g_autoptr (GPtrArray) edits = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_header_edit_free);
  gsize nlen, vlen;
  gboolean skip;
  const char *name = run_name (run, node, "addheader", &skip, &nlen);
  const char *value = ms_sv_expand (run, ms_sv_arg_str (node->pos[1], 0), &vlen);
  const char *why = NULL;
  g_autofree char *body = NULL;

  if (name == NULL)
    return FALSE;
  if (skip)
    return TRUE;
  body = ms_header_value_encode (value, vlen, nlen, &why);
  if (body == NULL)
    {
      ms_sv_run_error (run, node, "addheader: the value of %s cannot be a header value: %s", name, why);
      return FALSE;
    }
  g_ptr_array_add (edits, ms_header_edit_new (MS_HEADER_EDIT_ADD, name, body,
                                              ms_sv_node_has_tag (node, MS_SV_TAG_LAST), 0));
  return ms_sv_run_edit_header (run, node, edits);
}

/* ---------------------------------------------------------------- deleteheader */

static gboolean
validate_deleteheader (MsSvValidator *v, MsSvNode *node)
{
  gboolean ok = validate_name (v, node, "deleteheader", FALSE);

  /* the match tags only mean something with value patterns */
  return ms_sv_validate_match (v, node, node->npos > 1 ? node->pos[1] : NULL) && ok;
}

static gboolean
exec_deleteheader (MsSvRun *run, const MsSvNode *node)
{
  g_autoptr (GPtrArray) edits = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_header_edit_free);
  const MsSvMatch *m = node->data;
  gsize nlen;
  gboolean skip;
  const char *name = run_name (run, node, "deleteheader", &skip, &nlen);
  const char *const *values;
  const char *v;
  char *shown_value;
  guint n, from, to;

  if (name == NULL)
    return FALSE;
  if (skip)
    return TRUE;
  values = ms_header_view_lookup (run->view, name);
  n = values ? g_strv_length ((char **) values) : 0;
  from = 1, to = n;
  if (ms_sv_node_has_tag (node, MS_SV_TAG_INDEX))
    {
      guint64 idx = node->tagval[MS_SV_TAG_INDEX]->number;
      if (idx > n)
        to = 0;
      else
        from = to = ms_sv_node_has_tag (node, MS_SV_TAG_LAST) ? n - (guint) idx + 1 : (guint) idx;
    }
  for (guint k = from; k <= to && k > 0; k++)
    {
      if (m->keys)
        {
          MsSvMatching st;
          ms_sv_match_begin (run, &st, m);
          ms_sv_match_value (run, &st, values[k - 1], strlen (values[k - 1]));
          if (ms_sv_match_end (run, &st) != 1)
            continue;
        }
      /* counted in the header as the deletes before this one left it;
       * the value is only shown, so a huge one is cut */
      v = values[k - 1];
      if (strlen (v) > SHOWN_MAX)
        shown_value = g_strdup_printf ("%.*s...", (int) (g_utf8_find_prev_char (v, v + SHOWN_MAX) - v), v);
      else
        shown_value = g_strdup (v);
      g_ptr_array_add (edits, ms_header_edit_new (MS_HEADER_EDIT_DELETE, name, shown_value, FALSE,
                                                  k - edits->len));
      g_clear_pointer (&shown_value, g_free);
    }
  if (edits->len == 0)
    {
      ms_sv_run_trace (run, "line %u: deleteheader: no %s field to delete", node->line, name);
      return TRUE;
    }
  return ms_sv_run_edit_header (run, node, edits);
}

static const MsSvTagDef *const addheader_tag_tables[] = { addheader_tags, NULL };
static const MsSvTagDef *const deleteheader_tag_tables[] = { ms_sv_tags_match, deleteheader_tags, NULL };

static const MsSvDef def_addheader = { "addheader", MS_SV_COMMAND, "ss", addheader_tag_tables, 0, FALSE,
                                       validate_addheader, exec_addheader, NULL };
static const MsSvDef def_deleteheader = { "deleteheader", MS_SV_COMMAND, "s?l", deleteheader_tag_tables, 0, FALSE,
                                          validate_deleteheader, exec_deleteheader, NULL };
static const MsSvDef *const defs[] = { &def_addheader, &def_deleteheader, NULL };
const MsSvExtension ms_sv_ext_editheader = { "editheader", defs };
