/* mailsift Sieve engine - the interpreter (stage 4) and the action
 * rules of RFC 5228 2.10 (stage 5 is the result list of action.h). */
#include "sieve-interp.h"

#include "address.h"
#include "sieve-mime.h"

#include <stdarg.h>
#include <string.h>

void
ms_sv_run_error (MsSvRun *run, const MsSvNode *node, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (node)
    g_ptr_array_add (run->result->errors, g_strdup_printf ("%u:%u: runtime error: %s", node->line, node->col, text));
  else
    g_ptr_array_add (run->result->errors, g_strdup_printf ("runtime error: %s", text));
  run->failed = TRUE;
  run->stopped = TRUE;
}

void
ms_sv_run_warning (MsSvRun *run, const MsSvNode *node, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_ptr_array_add (run->result->warnings,
                   node ? g_strdup_printf ("%u:%u: %s", node->line, node->col, text) : g_strdup (text));
}

void
ms_sv_run_trace (MsSvRun *run, const char *fmt, ...)
{
  va_list ap;

  if (!run->req->trace)
    return;
  va_start (ap, fmt);
  g_ptr_array_add (run->result->trace, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

char *
ms_sv_run_keep_string (MsSvRun *run, char *s)
{
  g_ptr_array_add (run->scratch, s);
  return s;
}

/* ---------------------------------------------------------------- actions */

gboolean
ms_sv_run_add_action (MsSvRun *run, const MsSvNode *node, MsAction *action)
{
  g_autoptr (MsAction) a = action;
  GPtrArray *acts = run->result->actions;

  /* RFC 5429 2.1 and 2.2: reject and ereject cannot go with keep,
   * fileinto, redirect or vacation, in either order */
  for (guint i = 0; i < acts->len; i++)
    {
      const MsAction *b = acts->pdata[i];
      if ((a->kind == MS_ACTION_REJECT && ms_action_info (b->kind)->excludes_reject)
          || (b->kind == MS_ACTION_REJECT && ms_action_info (a->kind)->excludes_reject))
        {
          ms_sv_run_error (run, node, "%s cannot be combined with %s (RFC 5429)",
                           ms_action_kind_to_string (a->kind), ms_action_kind_to_string (b->kind));
          return FALSE;
        }
      if (a->kind == MS_ACTION_REJECT && b->kind == MS_ACTION_REJECT)
        {
          ms_sv_run_error (run, node, "more than one reject");
          return FALSE;
        }
      if (a->kind == MS_ACTION_VACATION && b->kind == MS_ACTION_VACATION)
        {
          ms_sv_run_error (run, node, "more than one vacation (RFC 5230 4.7)");
          return FALSE;
        }
    }
  if (run->n_actions >= MS_SV_MAX_ACTIONS)
    {
      ms_sv_run_error (run, node, "more than %d actions", MS_SV_MAX_ACTIONS);
      return FALSE;
    }
  run->n_actions++;
  a->edits = run->result->edits->len;
  if (run->req->trace)
    {
      g_autofree char *line = ms_action_format (a);
      ms_sv_run_trace (run, "line %u: %s", node ? node->line : 0, line);
    }
  g_ptr_array_add (acts, g_steal_pointer (&a));
  return TRUE;
}

gboolean
ms_sv_run_edit_header (MsSvRun *run, const MsSvNode *node, GPtrArray *edits)
{
  g_autoptr (GBytes) block = NULL;
  gsize len;
  const char *data;

  if (run->result->edits->len + edits->len > MS_SV_MAX_HEADER_EDITS)
    {
      ms_sv_run_error (run, node, "more than %d header changes", MS_SV_MAX_HEADER_EDITS);
      return FALSE;
    }
  if (run->editor == NULL)
    {
      /* no edit yet: the view is still the message's own header */
      data = run->req->header ? g_bytes_get_data (run->req->header, &len) : "";
      run->editor = ms_header_editor_new (data, ms_header_view_get_header_size (run->view));
    }
  for (guint i = 0; i < edits->len; i++)
    {
      MsHeaderEdit *e = g_steal_pointer (&edits->pdata[i]);
      if (run->req->trace)
        {
          g_autofree char *line = ms_header_edit_format (e);
          ms_sv_run_trace (run, "line %u: %s", node ? node->line : 0, line);
        }
      ms_header_editor_apply (run->editor, e);
      g_ptr_array_add (run->result->edits, e);
    }
  g_ptr_array_set_size (edits, 0);
  block = ms_header_editor_get_bytes (run->editor);
  data = g_bytes_get_data (block, &len);
  /* the old view's values go, and the addresses parsed from them */
  if (run->addresses)
    g_hash_table_remove_all (run->addresses);
  ms_header_view_free (run->view);
  run->view = ms_header_view_new (data, len);
  return TRUE;
}

/* ---------------------------------------------------------------- strings */

const char *
ms_sv_expand (MsSvRun *run, const MsSvStr *s, gsize *len_out)
{
  if (!s->vars)
    {
      if (len_out)
        *len_out = s->len;
      return s->str;
    }
  return ms_sv_run_keep_string (run, ms_sv_variables_expand (run, s->str, s->len, len_out));
}

const char *const *
ms_sv_expand_list (MsSvRun *run, const MsSvArg *arg)
{
  const char **out;

  if (arg->strv != NULL)
    return arg->strv;
  out = g_new (const char *, arg->strings->len + 1);

  for (guint i = 0; i < arg->strings->len; i++)
    out[i] = ms_sv_expand (run, ms_sv_arg_str (arg, i), NULL);
  out[arg->strings->len] = NULL;
  ms_sv_run_keep_string (run, (char *) out);
  return out;
}

/* ---------------------------------------------------------------- matching */

gboolean
ms_sv_match_compile (MsSvValidator *v, MsSvNode *node, const MsSvArg *keys, MsSvMatch *m)
{
  const MsSvArg *cmp = node->tagval[MS_SV_TAG_COMPARATOR];
  gboolean ok = TRUE;

  m->type = MS_MATCH_IS;
  m->rel = MS_REL_EQ;
  m->cmp = MS_CMP_ASCII_CASEMAP;
  m->keys = keys;
  m->regexes = NULL;
  m->folded = NULL;
  if (ms_sv_node_has_tag (node, MS_SV_TAG_COMPARATOR))
    {
      const char *name = ms_sv_arg_str (cmp, 0)->str;
      if (!ms_sieve_comparator_lookup (name, &m->cmp))
        {
          ms_sv_validator_error (v, node, cmp, "unknown comparator \"%s\"", name);
          ok = FALSE;
        }
      else if (m->cmp != MS_CMP_OCTET && m->cmp != MS_CMP_ASCII_CASEMAP)
        {
          g_autofree char *ext = g_strdup_printf ("comparator-%s", ms_sieve_comparator_name (m->cmp));
          if (!ms_sv_validator_has_extension (v, ext))
            {
              ms_sv_validator_error (v, node, cmp, "comparator \"%s\" needs require \"%s\"", name, ext);
              ok = FALSE;
            }
        }
    }
  if (ms_sv_node_has_tag (node, MS_SV_TAG_CONTAINS))
    m->type = MS_MATCH_CONTAINS;
  else if (ms_sv_node_has_tag (node, MS_SV_TAG_MATCHES))
    m->type = MS_MATCH_MATCHES;
  else if (ms_sv_node_has_tag (node, MS_SV_TAG_REGEX))
    m->type = MS_MATCH_REGEX;
  else if (ms_sv_node_has_tag (node, MS_SV_TAG_VALUE) || ms_sv_node_has_tag (node, MS_SV_TAG_COUNT))
    {
      gboolean count = ms_sv_node_has_tag (node, MS_SV_TAG_COUNT);
      const MsSvArg *relarg = node->tagval[count ? MS_SV_TAG_COUNT : MS_SV_TAG_VALUE];
      const char *rel = ms_sv_arg_str (relarg, 0)->str;
      m->type = count ? MS_MATCH_COUNT : MS_MATCH_VALUE;
      if (!ms_sieve_relation_lookup (rel, &m->rel))
        {
          ms_sv_validator_error (v, node, relarg, "unknown relation \"%s\": expected gt, ge, lt, le, eq or ne", rel);
          ok = FALSE;
        }
    }
  if (ok && (m->type == MS_MATCH_CONTAINS || m->type == MS_MATCH_MATCHES)
      && !ms_sieve_comparator_supports_substring (m->cmp))
    {
      ms_sv_validator_error (v, node, cmp, "comparator \"%s\" cannot do substring matches (:contains, :matches)",
                             ms_sieve_comparator_name (m->cmp));
      ok = FALSE;
    }
  if (ok && m->type == MS_MATCH_REGEX && keys)
    {
      gboolean vars = FALSE;
      for (guint i = 0; i < keys->strings->len; i++)
        vars |= ms_sv_arg_str (keys, i)->vars;
      m->regexes = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_sieve_regex_free);
      for (guint i = 0; i < keys->strings->len; i++)
        {
          g_autoptr (GError) error = NULL;
          const MsSvStr *k = ms_sv_arg_str (keys, i);
          MsSieveRegex *re = NULL;
          if (!k->vars)
            {
              re = ms_sieve_regex_new (k->str, m->cmp, &error);
              if (re == NULL)
                {
                  ms_sv_validator_error (v, node, keys, "bad regular expression \"%s\": %s", k->str, error->message);
                  ok = FALSE;
                }
            }
          g_ptr_array_add (m->regexes, re);
        }
      (void) vars;
    }
  if (ok && (m->type == MS_MATCH_IS || m->type == MS_MATCH_CONTAINS) && m->cmp == MS_CMP_ASCII_CASEMAP && keys)
    {
      m->folded = g_new0 (char *, keys->strings->len + 1);
      for (guint i = 0; i < keys->strings->len; i++)
        {
          const MsSvStr *k = ms_sv_arg_str (keys, i);
          if (k->vars)
            continue;
          m->folded[i] = g_malloc (k->len + 1);
          ms_sieve_ascii_fold (m->folded[i], k->str, k->len);
        }
    }
  return ok;
}

void
ms_sv_match_clear (MsSvMatch *m)
{
  g_clear_pointer (&m->regexes, g_ptr_array_unref);
  if (m->folded != NULL)
    {
      for (guint i = 0; m->keys && i < m->keys->strings->len; i++)
        g_free (m->folded[i]);
      g_clear_pointer (&m->folded, g_free);
    }
}

void
ms_sv_match_begin (MsSvRun *run, MsSvMatching *st, const MsSvMatch *m)
{
  st->m = m;
  st->count = 0;
  st->matched = FALSE;
  st->no_captures = FALSE;
}

/* RFC 5229 3.2: a successful :matches or :regex sets ${0}..${9}. */
static void
set_match_values (MsSvRun *run, GPtrArray *captures)
{
  if (run->match_values)
    g_ptr_array_unref (run->match_values);
  run->match_values = g_ptr_array_ref (captures);
}

/* i;ascii-casemap :is and :contains (m->folded): the value folded once,
 * compared with each folded key. */
static gboolean
match_folded (MsSvRun *run, MsSvMatching *st, const char *value, gsize len)
{
  const MsSvMatch *m = st->m;
  char buf[1024];
  g_autofree char *heap = NULL;
  char *v = len <= sizeof buf ? buf : (heap = g_malloc (len));

  ms_sieve_ascii_fold (v, value, len);
  for (guint i = 0; i < m->keys->strings->len; i++)
    {
      const MsSvStr *s = ms_sv_arg_str (m->keys, i);
      const char *k = m->folded[i];
      gsize klen = s->len;
      g_autofree char *kheap = NULL;
      gboolean hit;

      if (k == NULL)
        {
          const char *key = ms_sv_expand (run, s, &klen);
          k = kheap = g_malloc (klen + 1);
          ms_sieve_ascii_fold (kheap, key, klen);
        }
      if (m->type == MS_MATCH_IS)
        hit = klen == len && memcmp (v, k, len) == 0;
      else
        hit = klen == 0 || (klen <= len && memmem (v, len, k, klen) != NULL);
      if (hit)
        {
          st->matched = TRUE;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
ms_sv_match_value (MsSvRun *run, MsSvMatching *st, const char *value, gsize len)
{
  const MsSvMatch *m = st->m;
  gboolean want_captures = run->script->variables && !st->no_captures
                           && (m->type == MS_MATCH_MATCHES || m->type == MS_MATCH_REGEX);

  if (m->type == MS_MATCH_COUNT)
    {
      st->count++;
      return FALSE;
    }
  if (m->folded != NULL)
    return match_folded (run, st, value, len);
  for (guint i = 0; i < m->keys->strings->len; i++)
    {
      gsize klen;
      const char *key = ms_sv_expand (run, ms_sv_arg_str (m->keys, i), &klen);
      g_autoptr (GPtrArray) caps = want_captures ? g_ptr_array_new_with_free_func (g_free) : NULL;
      gboolean hit;

      if (m->type == MS_MATCH_REGEX)
        {
          MsSieveRegex *re = m->regexes ? m->regexes->pdata[i] : NULL;
          g_autoptr (MsSieveRegex) tmp = NULL;
          if (re == NULL)
            {
              g_autoptr (GError) error = NULL;
              tmp = re = ms_sieve_regex_new (key, m->cmp, &error);
              if (re == NULL)
                {
                  ms_sv_run_warning (run, NULL, "bad regular expression \"%s\": %s", key, error->message);
                  continue;
                }
            }
          hit = ms_sieve_regex_match (re, value, len, caps);
        }
      else
        hit = ms_sieve_match_one (m->type, m->rel, m->cmp, value, len, key, klen, caps);
      if (hit)
        {
          if (caps)
            set_match_values (run, caps);
          st->matched = TRUE;
          return TRUE;
        }
    }
  return FALSE;
}

int
ms_sv_match_end (MsSvRun *run, MsSvMatching *st)
{
  const MsSvMatch *m = st->m;

  if (m->type != MS_MATCH_COUNT)
    return st->matched ? 1 : 0;
  for (guint i = 0; i < m->keys->strings->len; i++)
    if (ms_sieve_match_count (st->count, m->rel, m->cmp, ms_sv_expand (run, ms_sv_arg_str (m->keys, i), NULL)))
      return 1;
  return 0;
}

/* ---------------------------------------------------------------- running */

int
ms_sv_run_test (MsSvRun *run, const MsSvNode *test)
{
  int r;

  if (++run->steps > MS_SV_MAX_STEPS)
    {
      ms_sv_run_error (run, test, "the script ran more than %d steps", MS_SV_MAX_STEPS);
      return -1;
    }
  r = test->def->test (run, test);
  if (run->req->trace && r >= 0)
    ms_sv_run_trace (run, "line %u: test %s is %s", test->line, test->name, r ? "true" : "false");
  return r;
}

gboolean
ms_sv_run_block (MsSvRun *run, const GPtrArray *block)
{
  gboolean chain_done = FALSE; /* an if/elsif of this chain ran its block */

  for (guint i = 0; i < block->len && !run->stopped; i++)
    {
      const MsSvNode *c = block->pdata[i];
      const char *name = c->def->name;

      if (++run->steps > MS_SV_MAX_STEPS)
        {
          ms_sv_run_error (run, c, "the script ran more than %d steps", MS_SV_MAX_STEPS);
          return FALSE;
        }
      if (strcmp (name, "if") == 0 || strcmp (name, "elsif") == 0 || strcmp (name, "else") == 0)
        {
          int r;
          if (name[0] == 'i')
            chain_done = FALSE;
          if (chain_done)
            continue;
          r = strcmp (name, "else") == 0 ? 1 : ms_sv_run_test (run, c->tests->pdata[0]);
          if (r < 0)
            return FALSE;
          if (r == 1)
            {
              chain_done = TRUE;
              if (!ms_sv_run_block (run, c->block))
                return FALSE;
            }
          continue;
        }
      chain_done = FALSE;
      if (c->def->execute && !c->def->execute (run, c))
        return FALSE;
    }
  return !run->failed;
}

void
ms_sv_execute (MsSvScript *script, const MsFilterRequest *req, MsFilterResult *result)
{
  MsSvRun run = { 0 };
  gsize hlen = 0;
  const char *hdata = req->header ? g_bytes_get_data (req->header, &hlen) : "";

  run.req = req;
  run.script = script;
  run.result = result;
  run.view = ms_header_view_new (hdata, hlen);
  run.implicit_keep = TRUE;
  run.scratch = g_ptr_array_new_with_free_func (g_free);
  run.views = g_ptr_array_new ();
  run.flags = g_ptr_array_new_with_free_func (g_free);

  ms_sv_run_block (&run, script->commands);

  if (run.failed)
    ms_filter_result_fail (result, result->errors->len ? result->errors->pdata[0] : "runtime error");
  else if (run.implicit_keep)
    {
      MsAction *keep = ms_action_new (MS_ACTION_KEEP, NULL);
      keep->implicit = TRUE;
      keep->edits = result->edits->len;
      if (script->imap4flags)
        ms_sv_imap4flags_implicit (&run, keep);
      g_ptr_array_add (result->actions, keep);
    }
  else
    {
      /* the script cancelled the implicit keep: a discard says so when no
       * action of the result cancels it, so the result is never empty */
      gboolean any = FALSE;
      for (guint i = 0; i < result->actions->len && !any; i++)
        any = ms_action_info (((MsAction *) result->actions->pdata[i])->kind)->cancels_implicit_keep;
      if (!any)
        g_ptr_array_add (result->actions, ms_action_new (MS_ACTION_DISCARD, NULL));
    }
  result->complete = TRUE;

  g_clear_pointer (&run.mime, ms_mime_free);
  g_clear_pointer (&run.match_values, g_ptr_array_unref);
  g_clear_pointer (&run.addresses, g_hash_table_unref);
  g_clear_pointer (&run.vars, g_hash_table_unref);
  g_clear_pointer (&run.globals, g_hash_table_unref);
  g_clear_pointer (&run.included_once, g_hash_table_unref);
  g_ptr_array_unref (run.flags);
  g_ptr_array_unref (run.scratch);
  g_ptr_array_unref (run.views);
  ms_header_view_free (run.view);
  ms_header_editor_free (run.editor);
}
