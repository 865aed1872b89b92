/* mailsift Sieve engine - the validator (stage 3 of 5).
 *
 * Resolves every node of the syntax tree against the definitions of the
 * core language and the required extensions (sieve-def.h): arguments are
 * checked against the declared shapes, tags are resolved to ids and
 * their conflicts reported, and each definition's validate hook compiles
 * what it can ahead of time. Every problem is reported, with line and
 * column, in one pass. */
#include "sieve-validate.h"

#include "sieve-encoded.h"
#include "sieve-parser.h"

#include <stdarg.h>
#include <string.h>

struct _MsSvValidator {
  MsSvScript *script;
  MsSvDiag diag;
  GPtrArray *enclosing; /* MsSvNode*: the commands whose blocks hold the current node */
};

static void
report (GPtrArray *into, const char *level, const MsSvNode *node, const MsSvArg *arg, const char *fmt,
        va_list ap)
{
  g_autofree char *text = g_strdup_vprintf (fmt, ap);
  guint line = arg ? arg->line : node ? node->line : 1;
  guint col = arg ? arg->col : node ? node->col : 1;

  g_ptr_array_add (into, g_strdup_printf ("%u:%u: %s: %s", line, col, level, text));
}

void
ms_sv_validator_error (MsSvValidator *v, const MsSvNode *node, const MsSvArg *arg, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  report (v->diag.errors, "error", node, arg, fmt, ap);
  va_end (ap);
}

void
ms_sv_validator_warning (MsSvValidator *v, const MsSvNode *node, const MsSvArg *arg, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  report (v->diag.warnings, "warning", node, arg, fmt, ap);
  va_end (ap);
}

gboolean
ms_sv_validator_has_extension (MsSvValidator *v, const char *name)
{
  return g_hash_table_contains (v->script->extensions, name);
}

MsSvScript *
ms_sv_validator_script (MsSvValidator *v)
{
  return v->script;
}

const GPtrArray *
ms_sv_validator_enclosing (MsSvValidator *v)
{
  return v->enclosing;
}

const char *
ms_sv_validator_script_path (MsSvValidator *v)
{
  return v->script->path;
}

/* ---------------------------------------------------------------- lookups */

extern const MsSvExtension ms_sv_ext_core;

/* The definition of @name of @kind in @ext, or NULL. */
static const MsSvDef *
find_in (const MsSvExtension *ext, const char *name)
{
  for (guint i = 0; ext->defs && ext->defs[i]; i++)
    if (strcmp (ext->defs[i]->name, name) == 0)
      return ext->defs[i];
  return NULL;
}

/* Levenshtein distance, capped: only small distances matter. */
static guint
distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = NULL;

  if (la > 40 || lb > 40)
    return 99;
  row = g_new (guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      guint prev = row[0], tmp;
      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          tmp = row[j];
          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), prev + (a[i - 1] == b[j - 1] ? 0 : 1));
          prev = tmp;
        }
    }
  return row[lb];
}

/* The closest known name of @kind to @name, or NULL. */
static const char *
suggest (const char *name, MsSvDefKind kind)
{
  const char *best = NULL;
  guint best_d = 3;

  for (guint e = 0; ms_sv_extensions[e]; e++)
    for (guint i = 0; ms_sv_extensions[e]->defs && ms_sv_extensions[e]->defs[i]; i++)
      {
        const MsSvDef *d = ms_sv_extensions[e]->defs[i];
        guint dist;
        if (d->kind != kind)
          continue;
        dist = distance (name, d->name);
        if (dist < best_d && dist <= strlen (name) / 2)
          best = d->name, best_d = dist;
      }
  return best;
}

static const MsSvDef *
resolve (MsSvValidator *v, MsSvNode *node)
{
  const MsSvDef *d = find_in (&ms_sv_ext_core, node->name);

  const char *what = node->is_test ? "test" : "command";
  const char *hint;

  /* an extension that is required wins (notify is defined by both the
   * old draft and enotify) */
  const MsSvExtension *needed = NULL;
  const MsSvDef *unrequired = NULL;

  for (guint e = 0; ms_sv_extensions[e] && d == NULL; e++)
    {
      const MsSvExtension *ext = ms_sv_extensions[e];
      const MsSvDef *found = find_in (ext, node->name);
      if (found == NULL)
        continue;
      if (ms_sv_validator_has_extension (v, ext->name))
        d = found;
      else if (needed == NULL)
        needed = ext, unrequired = found;
    }
  if (d == NULL && needed)
    {
      ms_sv_validator_error (v, node, NULL, "%s '%s' needs require \"%s\"",
                             unrequired->kind == MS_SV_TEST ? "test" : "command", node->name, needed->name);
      return NULL;
    }
  if (d == NULL)
    {
      hint = suggest (node->name, node->is_test ? MS_SV_TEST : MS_SV_COMMAND);
      if (hint)
        ms_sv_validator_error (v, node, NULL, "unknown %s '%s' (did you mean '%s'?)", what, node->name, hint);
      else
        ms_sv_validator_error (v, node, NULL, "unknown %s '%s'", what, node->name);
      return NULL;
    }
  if (node->is_test && d->kind != MS_SV_TEST)
    {
      ms_sv_validator_error (v, node, NULL, "'%s' is a command, not a test", node->name);
      return NULL;
    }
  if (!node->is_test && d->kind != MS_SV_COMMAND)
    {
      ms_sv_validator_error (v, node, NULL, "'%s' is a test, not a command (use it in if)", node->name);
      return NULL;
    }
  return d;
}

static const MsSvTagDef *
find_tag (const MsSvDef *d, const char *tag)
{
  for (guint t = 0; d->tags && d->tags[t]; t++)
    for (const MsSvTagDef *td = d->tags[t]; td->name; td++)
      if (strcmp (td->name, tag) == 0)
        return td;
  return NULL;
}

static const char *
kind_name (const MsSvArg *a)
{
  switch (a->kind)
    {
    case MS_SV_ARG_STRING: return "a string";
    case MS_SV_ARG_LIST: return "a string list";
    case MS_SV_ARG_NUMBER: return "a number";
    case MS_SV_ARG_TAG: return "a tag";
    }
  return "?";
}

static gboolean
arg_fits (const MsSvArg *a, char shape)
{
  switch (shape)
    {
    case 's': return a->kind == MS_SV_ARG_STRING;
    case 'l': return a->kind == MS_SV_ARG_STRING || a->kind == MS_SV_ARG_LIST;
    case 'n': return a->kind == MS_SV_ARG_NUMBER;
    default: return FALSE;
    }
}

static const char *
shape_name (char shape)
{
  return shape == 's' ? "a string" : shape == 'l' ? "a string list" : "a number";
}

/* ---------------------------------------------------------------- strings */

/* RFC 5229 3: the string uses variables when it holds "${" followed by an
 * identifier or digits and "}". A cheap over-approximation is fine: the
 * expansion itself is exact. */
/* "${a.b}": a reference into a namespace (RFC 5229 3). mailsift knows
 * none, and such a reference is an error, not an empty string. */
static const char *
namespace_reference (const MsSvStr *s)
{
  for (const char *p = s->str; (p = memmem (p, s->len - (p - s->str), "${", 2)) != NULL; p += 2)
    {
      const char *q = p + 2;
      gboolean dot = FALSE;
      if (!(g_ascii_isalpha (*q) || *q == '_'))
        continue;
      while (g_ascii_isalnum (*q) || *q == '_' || (*q == '.' && (dot = TRUE)))
        q++;
      if (*q == '}' && dot)
        return p;
    }
  return NULL;
}

static void
mark_variables (MsSvValidator *v, const MsSvNode *node, MsSvArg *a)
{
  gboolean encoded = ms_sv_validator_has_extension (v, "encoded-character");
  gboolean any_vars = FALSE;

  for (guint i = 0; a->strings && i < a->strings->len; i++)
    {
      MsSvStr *s = &g_array_index (a->strings, MsSvStr, i);
      if (encoded && !ms_sv_encoded_character_apply (s))
        ms_sv_validator_error (v, node, a, "${unicode:...} names a character that does not exist");
      s->vars = ms_sv_validator_has_extension (v, "variables") && memmem (s->str, s->len, "${", 2) != NULL;
      if (s->vars && namespace_reference (s))
        {
          const char *ref = namespace_reference (s);
          ms_sv_validator_error (v, node, a, "unknown variable namespace in \"%.*s\"",
                                 (int) (strchr (ref, '}') - ref + 1), ref);
        }
      any_vars |= s->vars;
    }
  /* a list of constants is the same for every message: build it once */
  g_clear_pointer (&a->strv, g_free);
  if (a->strings && !any_vars)
    {
      a->strv = g_new (const char *, a->strings->len + 1);
      for (guint i = 0; i < a->strings->len; i++)
        a->strv[i] = ms_sv_arg_str (a, i)->str;
      a->strv[a->strings->len] = NULL;
    }
}

/* ---------------------------------------------------------------- nodes */

static void validate_list (MsSvValidator *v, GPtrArray *cmds, gboolean top);

static gboolean
validate_args (MsSvValidator *v, MsSvNode *node, const MsSvDef *d)
{
  const char *shape = d->positional ? d->positional : "";
  gboolean optional = FALSE, ok = TRUE;
  const MsSvTagDef *group_seen[MS_SV_MAX_TAGS] = { 0 };
  guint ngroups = 0;

  for (guint i = 0; i < node->args->len; i++)
    {
      MsSvArg *a = node->args->pdata[i];

      mark_variables (v, node, a);
      if (a->kind == MS_SV_ARG_TAG)
        {
          const MsSvTagDef *td = find_tag (d, a->tag);
          if (td == NULL)
            {
              ms_sv_validator_error (v, node, a, "unknown tag ':%s' for '%s'", a->tag, node->name);
              ok = FALSE;
              continue;
            }
          if (td->extension && !ms_sv_validator_has_extension (v, td->extension))
            {
              ms_sv_validator_error (v, node, a, "tag ':%s' needs require \"%s\"", a->tag, td->extension);
              ok = FALSE;
            }
          if (ms_sv_node_has_tag (node, td->id))
            {
              ms_sv_validator_error (v, node, a, "tag ':%s' given twice", a->tag);
              ok = FALSE;
              continue;
            }
          if (td->group)
            {
              for (guint g = 0; g < ngroups; g++)
                if (strcmp (group_seen[g]->group, td->group) == 0)
                  {
                    ms_sv_validator_error (v, node, a, "':%s' and ':%s' cannot be used together",
                                           group_seen[g]->name, td->name);
                    ok = FALSE;
                  }
              if (ngroups < MS_SV_MAX_TAGS)
                group_seen[ngroups++] = td;
            }
          node->tagmask |= 1u << td->id;
          node->tagval[td->id] = a;
          if (td->arg)
            {
              MsSvArg *val = i + 1 < node->args->len ? node->args->pdata[i + 1] : NULL;
              if (val == NULL || !arg_fits (val, td->arg))
                {
                  ms_sv_validator_error (v, node, val ? val : a, "tag ':%s' needs %s after it%s%s",
                                         td->name, shape_name (td->arg), val ? ", found " : "",
                                         val ? kind_name (val) : "");
                  ok = FALSE;
                  continue;
                }
              mark_variables (v, node, val);
              node->tagval[td->id] = val;
              i++;
            }
          continue;
        }
      while (*shape == '?')
        optional = TRUE, shape++;
      if (*shape == '\0')
        {
          ms_sv_validator_error (v, node, a, "too many arguments for '%s': unexpected %s", node->name,
                                 kind_name (a));
          ok = FALSE;
          break;
        }
      if (!arg_fits (a, *shape))
        {
          ms_sv_validator_error (v, node, a, "'%s' expects %s here, found %s", node->name, shape_name (*shape),
                                 kind_name (a));
          ok = FALSE;
        }
      if (node->npos < MS_SV_MAX_POS)
        node->pos[node->npos++] = a;
      shape++;
    }
  while (*shape == '?')
    optional = TRUE, shape++;
  if (*shape != '\0' && !optional)
    {
      ms_sv_validator_error (v, node, NULL, "'%s' is missing an argument: expected %s", node->name,
                             shape_name (*shape));
      ok = FALSE;
    }
  return ok;
}

/* RFC 5463: inside "if ihave [...] { }" those extensions count as
 * required; a block guarded by an ihave of something unknown can never
 * run and is not validated. */
static void
validate_guarded_block (MsSvValidator *v, MsSvNode *node)
{
  const MsSvNode *t = node->tests && node->tests->len == 1 ? node->tests->pdata[0] : NULL;
  g_autoptr (GPtrArray) added = NULL;

  if (t == NULL || t->def == NULL || strcmp (t->def->name, "ihave") != 0 || t->npos != 1)
    {
      validate_list (v, node->block, FALSE);
      return;
    }
  added = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < t->pos[0]->strings->len; i++)
    {
      const MsSvStr *s = ms_sv_arg_str (t->pos[0], i);
      if (s->vars || ms_sv_extension_lookup (s->str) == NULL)
        return;
    }
  for (guint i = 0; i < t->pos[0]->strings->len; i++)
    {
      const char *name = ms_sv_arg_str (t->pos[0], i)->str;
      if (!ms_sv_validator_has_extension (v, name))
        {
          g_hash_table_add (v->script->extensions, g_strdup (name));
          g_ptr_array_add (added, g_strdup (name));
        }
    }
  validate_list (v, node->block, FALSE);
  for (guint i = 0; i < added->len; i++)
    g_hash_table_remove (v->script->extensions, added->pdata[i]);
}

static void
validate_node (MsSvValidator *v, MsSvNode *node)
{
  const MsSvDef *d = resolve (v, node);
  gboolean ok;

  if (d == NULL)
    {
      /* still look inside, to report everything in one pass */
      if (node->block)
        validate_list (v, node->block, FALSE);
      return;
    }
  node->def = d;
  ok = validate_args (v, node, d);

  if (d->tests == 0 && node->tests)
    {
      ms_sv_validator_error (v, node, NULL, "'%s' takes no test", node->name);
      ok = FALSE;
    }
  else if (d->tests == 1 && (node->tests == NULL || node->test_list || node->tests->len != 1))
    {
      ms_sv_validator_error (v, node, NULL, "'%s' needs one test%s", node->name,
                             node->test_list ? ", not a test list" : "");
      ok = FALSE;
    }
  else if (d->tests == -1 && (node->tests == NULL || !node->test_list))
    {
      ms_sv_validator_error (v, node, NULL, "'%s' needs a test list in parentheses", node->name);
      ok = FALSE;
    }
  if (d->block && node->block == NULL)
    {
      ms_sv_validator_error (v, node, NULL, "'%s' needs a block { ... }", node->name);
      ok = FALSE;
    }
  else if (!d->block && node->block)
    {
      ms_sv_validator_error (v, node, NULL, "'%s' takes no block", node->name);
      ok = FALSE;
    }

  for (guint i = 0; node->tests && i < node->tests->len; i++)
    validate_node (v, node->tests->pdata[i]);
  if (node->block)
    {
      g_ptr_array_add (v->enclosing, node);
      validate_guarded_block (v, node);
      g_ptr_array_set_size (v->enclosing, v->enclosing->len - 1);
    }
  if (ok && d->validate)
    d->validate (v, node);
}

/* require: only at the top, before anything else (RFC 5228 3.2). */
static void
do_require (MsSvValidator *v, MsSvNode *node, gboolean allowed)
{
  MsSvArg *a = node->args->len == 1 ? node->args->pdata[0] : NULL;

  node->def = find_in (&ms_sv_ext_core, "require");
  if (!allowed)
    {
      ms_sv_validator_error (v, node, NULL, "require must come before every other command");
      return;
    }
  if (a == NULL || (a->kind != MS_SV_ARG_STRING && a->kind != MS_SV_ARG_LIST) || node->tests || node->block)
    {
      ms_sv_validator_error (v, node, NULL, "require takes one string list: require [\"fileinto\", ...];");
      return;
    }
  for (guint i = 0; i < a->strings->len; i++)
    {
      const char *name = ms_sv_arg_str (a, i)->str;
      const MsSvExtension *ext = ms_sv_extension_lookup (name);
      if (ext == NULL)
        {
          ms_sv_validator_error (v, node, a, "unsupported extension \"%s\"", name);
          continue;
        }
      g_hash_table_add (v->script->extensions, g_strdup (ext->name));
      /* RFC 6131: vacation-seconds brings vacation with it */
      if (strcmp (ext->name, "vacation-seconds") == 0)
        g_hash_table_add (v->script->extensions, g_strdup ("vacation"));
      if (strcmp (ext->name, "variables") == 0)
        v->script->variables = TRUE;
      if (strcmp (ext->name, "imap4flags") == 0)
        v->script->imap4flags = TRUE;
    }
}

static void
validate_list (MsSvValidator *v, GPtrArray *cmds, gboolean top)
{
  gboolean require_ok = top;
  const MsSvNode *prev = NULL;

  for (guint i = 0; i < cmds->len; i++)
    {
      MsSvNode *node = cmds->pdata[i];

      if (strcmp (node->name, "require") == 0)
        {
          do_require (v, node, require_ok);
          prev = node;
          continue;
        }
      require_ok = FALSE;
      if ((strcmp (node->name, "elsif") == 0 || strcmp (node->name, "else") == 0)
          && (prev == NULL || (strcmp (prev->name, "if") != 0 && strcmp (prev->name, "elsif") != 0)))
        ms_sv_validator_error (v, node, NULL, "'%s' must follow 'if' or 'elsif'", node->name);
      validate_node (v, node);
      prev = node;
    }
}

void
ms_sv_validate (MsSvScript *script, GPtrArray *errors, GPtrArray *warnings)
{
  MsSvValidator v = { script, { errors, warnings }, g_ptr_array_new () };

  validate_list (&v, script->commands, TRUE);
  g_ptr_array_unref (v.enclosing);
}
