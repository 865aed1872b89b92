/* mailsift Sieve engine - include (RFC 6609): include, return, global.
 * An included script is compiled when the including one is (so its
 * errors are reported with the including script's), from the personal
 * directory (sieve_dir, default: the main script's directory) or the
 * global one (sieve_global_dir). It runs with the same message, actions
 * and implicit keep, and its own variables except those both declare
 * global. */
#include "sieve-core.h"

#include "sieve-ext-variables.h"

#include <string.h>

/* RFC 6609 leaves limits to the implementation; Pigeonhole's defaults. */
#define MAX_INCLUDE_DEPTH 10
#define MAX_INCLUDES_RUN 255

enum {
  TAG_PERSONAL = MS_SV_TAG_OWN,
  TAG_GLOBAL,
  TAG_ONCE,
  TAG_OPTIONAL,
};

typedef struct {
  char *path;        /* NULL: an optional script that does not exist */
} Include;

static void
include_free (gpointer data)
{
  Include *inc = data;

  g_free (inc->path);
  g_free (inc);
}

/* NULL after reporting when @name cannot name a script. */
static char *
script_path (MsSvValidator *v, MsSvNode *node, const MsSvScript *parent, const char *name, gboolean global)
{
  const char *dir = global ? parent->global_dir : parent->personal_dir;

  if (*name == '\0' || strchr (name, '/') || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    {
      ms_sv_validator_error (v, node, node->pos[0], "bad script name \"%s\": a file name in the %s directory, "
                             "without '/'", name, global ? "global" : "personal");
      return NULL;
    }
  if (dir == NULL)
    {
      ms_sv_validator_error (v, node, node->pos[0], "include :global needs sieve_global_dir in the configuration");
      return NULL;
    }
  return g_str_has_suffix (name, ".sieve") ? g_build_filename (dir, name, NULL)
                                           : g_strdup_printf ("%s/%s.sieve", dir, name);
}

static gboolean
validate_include (MsSvValidator *v, MsSvNode *node)
{
  MsSvScript *parent = ms_sv_validator_script (v);
  const MsSvStr *name = ms_sv_arg_str (node->pos[0], 0);
  Include *inc = g_new0 (Include, 1);
  g_autofree char *path = NULL;
  MsSvScript *child;

  node->data = inc;
  node->data_free = include_free;
  if (name->vars)
    {
      ms_sv_validator_error (v, node, node->pos[0], "the script name of include cannot use variables");
      return FALSE;
    }
  if ((path = script_path (v, node, parent, name->str, ms_sv_node_has_tag (node, TAG_GLOBAL))) == NULL)
    return FALSE;
  if (parent->depth + 1 > MAX_INCLUDE_DEPTH)
    {
      ms_sv_validator_error (v, node, node->pos[0], "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
      return FALSE;
    }
  if (ms_sv_script_is_compiling (path))
    {
      ms_sv_validator_error (v, node, node->pos[0], "include loop: \"%s\" includes itself", name->str);
      return FALSE;
    }
  child = ms_sv_script_cache_get_include (path, parent);
  if (child == NULL)
    {
      if (ms_sv_node_has_tag (node, TAG_OPTIONAL))
        return TRUE;
      ms_sv_validator_error (v, node, node->pos[0], "included script \"%s\" does not exist (%s)", name->str, path);
      return FALSE;
    }
  for (guint i = 0; i < child->errors->len; i++)
    ms_sv_validator_error (v, node, node->pos[0], "in included script %s: %s", path, (char *) child->errors->pdata[i]);
  if (child->errors->len)
    return FALSE;
  parent->needs_body |= child->needs_body;
  inc->path = g_steal_pointer (&path);
  return TRUE;
}

static gboolean
exec_include (MsSvRun *run, const MsSvNode *node)
{
  const Include *inc = node->data;
  MsSvScript *parent = run->script, *child;
  GHashTable *saved_vars;
  gboolean ok;

  if (inc->path == NULL)
    return TRUE; /* :optional, and absent */
  if (ms_sv_node_has_tag (node, TAG_ONCE))
    {
      if (run->included_once == NULL)
        run->included_once = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (g_hash_table_contains (run->included_once, inc->path))
        return TRUE;
      g_hash_table_add (run->included_once, g_strdup (inc->path));
    }
  if (++run->include_depth > MAX_INCLUDES_RUN)
    {
      ms_sv_run_error (run, node, "more than %d includes", MAX_INCLUDES_RUN);
      return FALSE;
    }
  child = ms_sv_script_cache_get_include (inc->path, parent);
  if (child == NULL || child->errors->len)
    {
      ms_sv_run_error (run, node, "included script %s changed or vanished; it no longer compiles", inc->path);
      return FALSE;
    }
  ms_sv_run_trace (run, "line %u: include %s", node->line, inc->path);
  saved_vars = run->vars;
  run->vars = NULL;
  run->script = child;
  ok = ms_sv_run_block (run, child->commands);
  run->script = parent;
  g_clear_pointer (&run->vars, g_hash_table_unref);
  run->vars = saved_vars;
  /* return ends only the included script */
  if (run->returned)
    {
      run->returned = FALSE;
      run->stopped = run->failed;
    }
  return ok;
}

static gboolean
exec_return (MsSvRun *run, const MsSvNode *node)
{
  run->stopped = TRUE;
  run->returned = run->script->depth > 0 || run->include_depth > 0;
  return TRUE;
}

static gboolean
validate_global (MsSvValidator *v, MsSvNode *node)
{
  MsSvScript *s = ms_sv_validator_script (v);
  const MsSvArg *names = node->pos[0];

  if (!ms_sv_validator_has_extension (v, "variables"))
    {
      ms_sv_validator_error (v, node, NULL, "global needs require \"variables\"");
      return FALSE;
    }
  if (s->globals == NULL)
    s->globals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < names->strings->len; i++)
    {
      const char *name = ms_sv_arg_str (names, i)->str;
      if (!ms_sv_variables_name_is_valid (name))
        {
          ms_sv_validator_error (v, node, names, "bad variable name \"%s\"", name);
          return FALSE;
        }
      g_hash_table_add (s->globals, g_ascii_strdown (name, -1));
    }
  return TRUE;
}

static gboolean
exec_global (MsSvRun *run, const MsSvNode *node)
{
  return TRUE; /* declared at compile time */
}

static const MsSvTagDef include_tags[] = {
  { "personal", TAG_PERSONAL, 0, "location", NULL },
  { "global", TAG_GLOBAL, 0, "location", NULL },
  { "once", TAG_ONCE, 0, NULL, NULL },
  { "optional", TAG_OPTIONAL, 0, NULL, NULL },
  { NULL },
};
static const MsSvTagDef *const include_tag_tables[] = { include_tags, NULL };
static const MsSvDef def_include = { "include", MS_SV_COMMAND, "s", include_tag_tables, 0, FALSE,
                                     validate_include, exec_include, NULL };
static const MsSvDef def_return = { "return", MS_SV_COMMAND, "", NULL, 0, FALSE, NULL, exec_return, NULL };
static const MsSvDef def_global = { "global", MS_SV_COMMAND, "l", NULL, 0, FALSE, validate_global, exec_global, NULL };
static const MsSvDef *const defs[] = { &def_include, &def_return, &def_global, NULL };
const MsSvExtension ms_sv_ext_include = { "include", defs };
