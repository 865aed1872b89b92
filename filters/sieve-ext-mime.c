/* mailsift Sieve engine - MIME parts (RFC 5703): the "foreverypart"
 * extension (foreverypart, break), "mime" (the :mime and :anychild tags
 * of header, address and exists, and :type, :subtype, :contenttype and
 * :param of header) and "extracttext". replace and enclose are not
 * implemented: mailsift never changes the message it delivers.
 *
 * As in Pigeonhole, a foreverypart at the top visits the message itself
 * first and then every part below it, depth first; one nested in another
 * visits the parts below the outer loop's current part. Only header
 * tests with :mime look at the current part; without it they still look
 * at the message's header (RFC 5703 4.1). Loops are bounded by
 * MS_MIME_MAX_PARTS parts and the interpreter's MS_SV_MAX_STEPS. */
#include "sieve-core.h"

#include "sieve-ext-variables.h"
#include "sieve-mime.h"

#include <string.h>

enum {
  TAG_NAME = MS_SV_TAG_OWN,
  TAG_FIRST = MS_SV_TAG_MODIFIERS_END,
};

/* ---------------------------------------------------------------- :mime */

const MsSvTagDef ms_sv_tags_mime[] = {
  { "mime", MS_SV_TAG_MIME, 0, NULL, "mime" },
  { "anychild", MS_SV_TAG_ANYCHILD, 0, NULL, "mime" },
  { NULL },
};

const MsSvTagDef ms_sv_tags_mime_options[] = {
  { "type", MS_SV_TAG_MIME_TYPE, 0, "mime-option", "mime" },
  { "subtype", MS_SV_TAG_MIME_SUBTYPE, 0, "mime-option", "mime" },
  { "contenttype", MS_SV_TAG_MIME_CONTENTTYPE, 0, "mime-option", "mime" },
  { "param", MS_SV_TAG_MIME_PARAM, 'l', "mime-option", "mime" },
  { NULL },
};

gboolean
ms_sv_mime_has_option (const MsSvNode *node)
{
  return ms_sv_node_has_tag (node, MS_SV_TAG_MIME_TYPE) || ms_sv_node_has_tag (node, MS_SV_TAG_MIME_SUBTYPE)
         || ms_sv_node_has_tag (node, MS_SV_TAG_MIME_CONTENTTYPE) || ms_sv_node_has_tag (node, MS_SV_TAG_MIME_PARAM);
}

gboolean
ms_sv_mime_validate_tags (MsSvValidator *v, MsSvNode *node)
{
  static const guint needs_mime[] = { MS_SV_TAG_ANYCHILD, MS_SV_TAG_MIME_TYPE, MS_SV_TAG_MIME_SUBTYPE,
                                      MS_SV_TAG_MIME_CONTENTTYPE, MS_SV_TAG_MIME_PARAM };
  static const char *const names[] = { "anychild", "type", "subtype", "contenttype", "param" };

  for (guint i = 0; i < G_N_ELEMENTS (needs_mime); i++)
    if (ms_sv_node_has_tag (node, needs_mime[i]) && !ms_sv_node_has_tag (node, MS_SV_TAG_MIME))
      {
        ms_sv_validator_error (v, node, NULL, "':%s' needs ':mime'", names[i]);
        return FALSE;
      }
  /* the message's own header is at hand without the body; the parts
   * below it are not */
  if (ms_sv_node_has_tag (node, MS_SV_TAG_ANYCHILD))
    ms_sv_validator_script (v)->needs_body = TRUE;
  return TRUE;
}

/* ---------------------------------------------------------------- foreverypart */

/* The :name of a foreverypart or break, NULL without one (or when its
 * string is missing: the validator reported that already). */
static const MsSvStr *
name_of (const MsSvNode *node)
{
  const MsSvArg *a = node->tagval[TAG_NAME];

  if (!ms_sv_node_has_tag (node, TAG_NAME) || a->kind != MS_SV_ARG_STRING || a->strings == NULL)
    return NULL;
  return ms_sv_arg_str (a, 0);
}

static const char *
loop_name (const MsSvNode *loop)
{
  return name_of (loop) ? name_of (loop)->str : NULL;
}

static gboolean
check_name (MsSvValidator *v, MsSvNode *node)
{
  if (name_of (node) && name_of (node)->vars)
    {
      ms_sv_validator_error (v, node, node->tagval[TAG_NAME], "the :name of %s cannot use variables", node->name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_foreverypart (MsSvValidator *v, MsSvNode *node)
{
  ms_sv_validator_script (v)->needs_body = TRUE;
  return check_name (v, node);
}

static gboolean
exec_foreverypart (MsSvRun *run, const MsSvNode *node)
{
  MsMime *mime = ms_sv_mime_get (run, node);
  MsMimePart *outer = run->part;
  guint from, to;
  gboolean ok = TRUE;

  if (mime == NULL)
    return FALSE;
  /* nested: the parts below the outer loop's part */
  from = outer ? outer->index + 1 : 0;
  to = outer ? outer->end : mime->parts->len;
  for (guint i = from; i < to && ok && !run->stopped; i++)
    {
      run->part = mime->parts->pdata[i];
      ms_sv_run_trace (run, "line %u: foreverypart: part %u (%s/%s)", node->line, i + 1, run->part->type,
                       run->part->subtype);
      ok = ms_sv_run_block (run, node->block);
      if (run->breaking == node)
        {
          run->breaking = NULL;
          run->stopped = FALSE;
          break;
        }
    }
  run->part = outer;
  return ok;
}

static const MsSvDef def_foreverypart;

/* The foreverypart loops around the node being validated, outermost
 * first. Transfer container. */
static GPtrArray *
enclosing_loops (MsSvValidator *v)
{
  const GPtrArray *around = ms_sv_validator_enclosing (v);
  GPtrArray *loops = g_ptr_array_new ();

  for (guint i = 0; i < around->len; i++)
    if (((const MsSvNode *) around->pdata[i])->def == &def_foreverypart)
      g_ptr_array_add (loops, around->pdata[i]);
  return loops;
}

static gboolean
validate_break (MsSvValidator *v, MsSvNode *node)
{
  g_autoptr (GPtrArray) loops = enclosing_loops (v);
  const char *name = loop_name (node);

  if (!check_name (v, node))
    return FALSE;
  for (guint i = loops->len; i-- > 0;)
    {
      const MsSvNode *loop = loops->pdata[i];
      if (name == NULL || g_strcmp0 (loop_name (loop), name) == 0)
        {
          node->data = (gpointer) loop; /* not owned: no data_free */
          return TRUE;
        }
    }
  if (name)
    ms_sv_validator_error (v, node, node->tagval[TAG_NAME], "break :name \"%s\": no foreverypart of that name "
                           "around it", name);
  else
    ms_sv_validator_error (v, node, NULL, "break outside foreverypart");
  return FALSE;
}

static gboolean
exec_break (MsSvRun *run, const MsSvNode *node)
{
  /* unwinds every block up to that loop, which clears it */
  run->breaking = node->data;
  run->stopped = TRUE;
  return TRUE;
}

/* ---------------------------------------------------------------- extracttext */

static gboolean
validate_extracttext (MsSvValidator *v, MsSvNode *node)
{
  const MsSvStr *name = ms_sv_arg_str (node->pos[0], 0);
  g_autoptr (GPtrArray) loops = enclosing_loops (v);

  ms_sv_validator_script (v)->needs_body = TRUE;
  if (!ms_sv_validator_has_extension (v, "variables"))
    {
      ms_sv_validator_error (v, node, NULL, "extracttext needs require \"variables\"");
      return FALSE;
    }
  if (loops->len == 0)
    {
      ms_sv_validator_error (v, node, NULL, "extracttext outside foreverypart: it extracts the current MIME part");
      return FALSE;
    }
  if (!ms_sv_variables_name_is_valid (name->str))
    {
      ms_sv_validator_error (v, node, node->pos[0], "bad variable name \"%s\"", name->str);
      return FALSE;
    }
  return TRUE;
}

static gboolean
exec_extracttext (MsSvRun *run, const MsSvNode *node)
{
  const char *name = ms_sv_arg_str (node->pos[0], 0)->str;
  g_autoptr (GBytes) text = NULL;
  g_autofree char *value = NULL;
  const char *data = "";
  gsize len = 0;

  /* only text parts have text; the rest give "" (RFC 5703 7) */
  if (run->part && ms_mime_part_is_text (run->part))
    {
      text = ms_mime_part_content (run->part, TRUE, TRUE);
      data = g_bytes_get_data (text, &len);
      if (data == NULL)
        data = "", len = 0;
    }
  if (ms_sv_node_has_tag (node, TAG_FIRST))
    {
      /* :first counts characters */
      guint64 n = node->tagval[TAG_FIRST]->number;
      const char *p = data;
      while (n-- > 0 && p < data + len)
        p = g_utf8_next_char (p);
      len = MIN ((gsize) (p - data), len);
    }
  value = ms_sv_variables_modify (node, data, len);
  ms_sv_variables_set (run, name, value, strlen (value));
  ms_sv_run_trace (run, "line %u: extracttext %s = \"%s\"", node->line, name, ms_sv_variables_get (run, name));
  return TRUE;
}

static const MsSvTagDef name_tags[] = {
  { "name", TAG_NAME, 's', NULL, NULL },
  { NULL },
};
static const MsSvTagDef first_tags[] = {
  { "first", TAG_FIRST, 'n', NULL, NULL },
  { NULL },
};
static const MsSvTagDef *const loop_tags[] = { name_tags, NULL };
static const MsSvTagDef *const extracttext_tags[] = { ms_sv_tags_modifiers, first_tags, NULL };

static const MsSvDef def_foreverypart = { "foreverypart", MS_SV_COMMAND, "", loop_tags, 0, TRUE,
                                          validate_foreverypart, exec_foreverypart, NULL };
static const MsSvDef def_break = { "break", MS_SV_COMMAND, "", loop_tags, 0, FALSE, validate_break, exec_break, NULL };
static const MsSvDef def_extracttext = { "extracttext", MS_SV_COMMAND, "s", extracttext_tags, 0, FALSE,
                                         validate_extracttext, exec_extracttext, NULL };

static const MsSvDef *const foreverypart_defs[] = { &def_foreverypart, &def_break, NULL };
static const MsSvDef *const extracttext_defs[] = { &def_extracttext, NULL };
const MsSvExtension ms_sv_ext_foreverypart = { "foreverypart", foreverypart_defs };
const MsSvExtension ms_sv_ext_mime = { "mime", NULL };
const MsSvExtension ms_sv_ext_extracttext = { "extracttext", extracttext_defs };
