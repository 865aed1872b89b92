/* mailsift Sieve engine - imap4flags (RFC 5232): setflag, addflag,
 * removeflag, the hasflag test, the :flags tag of keep and fileinto, and
 * the flags of the implicit keep. Flags live in the internal variable, or
 * in a named variable (with "variables") as a space-separated list. */
#include "sieve-core.h"

#include "sieve-ext-variables.h"

#include <string.h>

const MsSvTagDef ms_sv_tags_flags[] = {
  { "flags", MS_SV_TAG_FLAGS, 'l', NULL, "imap4flags" },
  { NULL },
};

/* Add the space-separated flags of @s to @into, once each (flags compare
 * without regard to ASCII case). */
static void
add_flags (GPtrArray *into, const char *s)
{
  g_auto (GStrv) words = g_strsplit_set (s, " \t\r\n", -1);

  for (guint w = 0; words[w]; w++)
    {
      gboolean dup = FALSE;
      if (*words[w] == '\0')
        continue;
      for (guint k = 0; k < into->len && !dup; k++)
        dup = g_ascii_strcasecmp (into->pdata[k], words[w]) == 0;
      if (!dup)
        g_ptr_array_add (into, g_strdup (words[w]));
    }
}

static void
remove_flags (GPtrArray *from, const char *s)
{
  g_auto (GStrv) words = g_strsplit_set (s, " \t\r\n", -1);

  for (guint w = 0; words[w]; w++)
    for (guint k = 0; k < from->len;)
      if (g_ascii_strcasecmp (from->pdata[k], words[w]) == 0)
        g_ptr_array_remove_index (from, k);
      else
        k++;
}

static char *
join_flags (GPtrArray *flags)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < flags->len; i++)
    {
      if (i)
        g_string_append_c (s, ' ');
      g_string_append (s, flags->pdata[i]);
    }
  return g_string_free (s, FALSE);
}

/* The flag list a command works on: the internal variable, or a copy of
 * the named variable's value (written back by store_target). */
static GPtrArray *
load_target (MsSvRun *run, const char *var)
{
  GPtrArray *flags;

  if (var == NULL)
    return g_ptr_array_ref (run->flags);
  flags = g_ptr_array_new_with_free_func (g_free);
  add_flags (flags, ms_sv_variables_get (run, var));
  return flags;
}

static void
store_target (MsSvRun *run, const char *var, GPtrArray *flags)
{
  g_autofree char *joined = NULL;

  if (var == NULL)
    return;
  joined = join_flags (flags);
  ms_sv_variables_set (run, var, joined, strlen (joined));
}

static gboolean
validate_flag_command (MsSvValidator *v, MsSvNode *node)
{
  if (node->npos == 2 && node->pos[0]->kind != MS_SV_ARG_STRING)
    {
      ms_sv_validator_error (v, node, node->pos[0], "'%s' takes one variable name here, not a list", node->name);
      return FALSE;
    }
  if (node->npos == 2 && !ms_sv_validator_has_extension (v, "variables"))
    {
      ms_sv_validator_error (v, node, node->pos[0], "a variable name for '%s' needs require \"variables\"",
                             node->name);
      return FALSE;
    }
  if (node->npos == 2 && !ms_sv_variables_name_is_valid (ms_sv_arg_str (node->pos[0], 0)->str))
    {
      ms_sv_validator_error (v, node, node->pos[0], "bad variable name \"%s\"", ms_sv_arg_str (node->pos[0], 0)->str);
      return FALSE;
    }
  return TRUE;
}

static gboolean
exec_flag_command (MsSvRun *run, const MsSvNode *node)
{
  const char *var = node->npos == 2 ? ms_sv_arg_str (node->pos[0], 0)->str : NULL;
  const char *const *list = ms_sv_expand_list (run, node->pos[node->npos - 1]);
  g_autoptr (GPtrArray) flags = load_target (run, var);
  char op = node->name[0]; /* s, a, r */

  if (op == 's')
    g_ptr_array_set_size (flags, 0);
  for (guint i = 0; list[i]; i++)
    {
      if (op == 'r')
        remove_flags (flags, list[i]);
      else
        add_flags (flags, list[i]);
    }
  store_target (run, var, flags);
  if (run->req->trace)
    {
      g_autofree char *joined = join_flags (flags);
      ms_sv_run_trace (run, "line %u: %s: flags now \"%s\"", node->line, node->name, joined);
    }
  return TRUE;
}

static gboolean
validate_hasflag (MsSvValidator *v, MsSvNode *node)
{
  if (node->npos == 2 && !ms_sv_validator_has_extension (v, "variables"))
    {
      ms_sv_validator_error (v, node, node->pos[0], "variable names for hasflag need require \"variables\"");
      return FALSE;
    }
  return ms_sv_validate_match (v, node, node->pos[node->npos - 1]);
}

static int
test_hasflag (MsSvRun *run, const MsSvNode *node)
{
  MsSvMatching st;

  ms_sv_match_begin (run, &st, node->data);
  if (node->npos == 2)
    {
      const char *const *vars = ms_sv_expand_list (run, node->pos[0]);
      for (guint i = 0; vars[i]; i++)
        {
          g_autoptr (GPtrArray) flags = load_target (run, vars[i]);
          for (guint k = 0; k < flags->len; k++)
            if (ms_sv_match_value (run, &st, flags->pdata[k], strlen (flags->pdata[k])))
              return 1;
        }
    }
  else
    for (guint k = 0; k < run->flags->len; k++)
      if (ms_sv_match_value (run, &st, run->flags->pdata[k], strlen (run->flags->pdata[k])))
        return 1;
  return ms_sv_match_end (run, &st);
}

static char **
to_strv (GPtrArray *flags)
{
  char **v;

  if (flags->len == 0)
    return NULL;
  v = g_new (char *, flags->len + 1);
  for (guint i = 0; i < flags->len; i++)
    v[i] = g_strdup (flags->pdata[i]);
  v[flags->len] = NULL;
  return v;
}

gboolean
ms_sv_imap4flags_for_action (MsSvRun *run, const MsSvNode *node, MsAction *action)
{
  if (ms_sv_node_has_tag (node, MS_SV_TAG_FLAGS))
    {
      const char *const *list = ms_sv_expand_list (run, node->tagval[MS_SV_TAG_FLAGS]);
      g_autoptr (GPtrArray) flags = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; list[i]; i++)
        add_flags (flags, list[i]);
      action->flags = to_strv (flags);
    }
  else if (run->script->imap4flags)
    action->flags = to_strv (run->flags);
  return TRUE;
}

void
ms_sv_imap4flags_implicit (MsSvRun *run, MsAction *keep)
{
  keep->flags = to_strv (run->flags);
}

static const MsSvDef def_setflag = { "setflag", MS_SV_COMMAND, "l?l", NULL, 0, FALSE,
                                     validate_flag_command, exec_flag_command, NULL };
static const MsSvDef def_addflag = { "addflag", MS_SV_COMMAND, "l?l", NULL, 0, FALSE,
                                     validate_flag_command, exec_flag_command, NULL };
static const MsSvDef def_removeflag = { "removeflag", MS_SV_COMMAND, "l?l", NULL, 0, FALSE,
                                        validate_flag_command, exec_flag_command, NULL };
static const MsSvTagDef *const hasflag_tags[] = { ms_sv_tags_match, NULL };
static const MsSvDef def_hasflag = { "hasflag", MS_SV_TEST, "l?l", hasflag_tags, 0, FALSE,
                                     validate_hasflag, NULL, test_hasflag };
static const MsSvDef *const defs[] = { &def_setflag, &def_addflag, &def_removeflag, &def_hasflag, NULL };
const MsSvExtension ms_sv_ext_imap4flags = { "imap4flags", defs };
