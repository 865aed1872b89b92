/* mailsift Sieve engine - variables (RFC 5229): set with its modifiers,
 * the string test, ${name} and ${N} substitution in strings. */
#include "sieve-ext-variables.h"

#include "sieve-core.h"

#include <string.h>

gboolean
ms_sv_variables_name_is_valid (const char *name)
{
  if (!(g_ascii_isalpha (*name) || *name == '_'))
    return FALSE;
  for (const char *p = name + 1; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_'))
      return FALSE;
  return TRUE;
}

static void
free_gstring (gpointer s)
{
  g_string_free (s, TRUE);
}

/* The table @name lives in: the shared one when the current script
 * declared it global (include, RFC 6609 4), else the script's own. */
static GHashTable **
table_for (MsSvRun *run, const char *key)
{
  if (run->script->globals && g_hash_table_contains (run->script->globals, key))
    return &run->globals;
  return &run->vars;
}

const char *
ms_sv_variables_get (MsSvRun *run, const char *name)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  GHashTable *table = *table_for (run, key);
  GString *v = table ? g_hash_table_lookup (table, key) : NULL;

  return v ? v->str : "";
}

void
ms_sv_variables_set (MsSvRun *run, const char *name, const char *value, gsize len)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  GHashTable **table = table_for (run, key);
  GString *v;

  if (*table == NULL)
    *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_gstring);
  if (len > MS_SV_MAX_VARIABLE_SIZE)
    {
      /* cut on a character boundary */
      len = MS_SV_MAX_VARIABLE_SIZE;
      while (len > 0 && ((guchar) value[len] & 0xc0) == 0x80)
        len--;
    }
  v = g_hash_table_lookup (*table, key);
  if (v == NULL)
    {
      if (g_hash_table_size (*table) >= MS_SV_MAX_VARIABLES)
        return;
      v = g_string_new (NULL);
      g_hash_table_insert (*table, g_steal_pointer (&key), v);
    }
  g_string_truncate (v, 0);
  g_string_append_len (v, value, len);
}

/* The value of one reference: "name" or digits. NULL when @ref is not a
 * reference at all (then the text stays as written). */
static const char *
lookup_ref (MsSvRun *run, const char *ref, gsize len)
{
  g_autofree char *name = g_strndup (ref, len);

  if (len == 0)
    return NULL;
  if (g_ascii_isdigit (name[0]))
    {
      guint64 n = 0;
      for (gsize i = 0; i < len; i++)
        {
          if (!g_ascii_isdigit (name[i]))
            return NULL;
          n = MIN (n * 10 + (name[i] - '0'), 1000);
        }
      if (run->match_values == NULL || n >= run->match_values->len)
        return "";
      return run->match_values->pdata[n] ? run->match_values->pdata[n] : "";
    }
  if (!ms_sv_variables_name_is_valid (name))
    return NULL; /* namespaces (a.b) are not supported: left as written */
  return ms_sv_variables_get (run, name);
}

char *
ms_sv_variables_expand (MsSvRun *run, const char *s, gsize len, gsize *len_out)
{
  GString *out = g_string_sized_new (len);
  const char *end = s + len;

  for (const char *p = s; p < end;)
    {
      const char *close;
      const char *val;
      if (p + 1 < end && p[0] == '$' && p[1] == '{' && (close = memchr (p + 2, '}', end - p - 2)) != NULL
          && (val = lookup_ref (run, p + 2, close - p - 2)) != NULL)
        {
          g_string_append (out, val);
          p = close + 1;
          continue;
        }
      g_string_append_c (out, *p++);
    }
  if (len_out)
    *len_out = out->len;
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------- set */

static gboolean
validate_set (MsSvValidator *v, MsSvNode *node)
{
  const MsSvStr *name = ms_sv_arg_str (node->pos[0], 0);

  if (!ms_sv_variables_name_is_valid (name->str))
    {
      ms_sv_validator_error (v, node, node->pos[0], "bad variable name \"%s\": letters, digits and '_', "
                             "not starting with a digit", name->str);
      return FALSE;
    }
  return TRUE;
}

static char *
quote_chars (const char *s, const char *special)
{
  GString *out = g_string_new (NULL);

  for (; *s; s++)
    {
      if (strchr (special, *s))
        g_string_append_c (out, '\\');
      g_string_append_c (out, *s);
    }
  return g_string_free (out, FALSE);
}

static char *
change_first (const char *s, gboolean upper)
{
  char *out = g_strdup (s);

  if (*out)
    out[0] = upper ? g_ascii_toupper (out[0]) : g_ascii_tolower (out[0]);
  return out;
}

char *
ms_sv_variables_modify (const MsSvNode *node, const char *value, gsize len)
{
  g_autofree char *v = g_strndup (value, len);

  /* RFC 5229 4.1: by precedence, 40 (lower/upper) first, 10 (length) last */
  if (ms_sv_node_has_tag (node, MS_SV_TAG_LOWER))
    g_free (g_steal_pointer (&v)), v = g_ascii_strdown (value, len); /* ASCII only, as Pigeonhole */
  else if (ms_sv_node_has_tag (node, MS_SV_TAG_UPPER))
    g_free (g_steal_pointer (&v)), v = g_ascii_strup (value, len);
  if (ms_sv_node_has_tag (node, MS_SV_TAG_LOWERFIRST) || ms_sv_node_has_tag (node, MS_SV_TAG_UPPERFIRST))
    {
      char *t = change_first (v, ms_sv_node_has_tag (node, MS_SV_TAG_UPPERFIRST));
      g_free (v);
      v = t;
    }
  if (ms_sv_node_has_tag (node, MS_SV_TAG_QUOTEWILDCARD))
    {
      char *t = quote_chars (v, "*?\\");
      g_free (v);
      v = t;
    }
  if (ms_sv_node_has_tag (node, MS_SV_TAG_QUOTEREGEX))
    {
      char *t = quote_chars (v, "*?\\.^$[](){}|+");
      g_free (v);
      v = t;
    }
  if (ms_sv_node_has_tag (node, MS_SV_TAG_ENCODEURL))
    {
      /* RFC 5435 6, precedence 15: percent-encode all but unreserved */
      char *t = g_uri_escape_string (v, "", FALSE);
      g_free (v);
      v = t;
    }
  if (ms_sv_node_has_tag (node, MS_SV_TAG_LENGTH))
    {
      char *t = g_strdup_printf ("%ld", g_utf8_validate (v, -1, NULL) ? g_utf8_strlen (v, -1) : (glong) strlen (v));
      g_free (v);
      v = t;
    }
  return g_steal_pointer (&v);
}

static gboolean
exec_set (MsSvRun *run, const MsSvNode *node)
{
  const char *name = ms_sv_arg_str (node->pos[0], 0)->str;
  gsize len;
  const char *value = ms_sv_expand (run, ms_sv_arg_str (node->pos[1], 0), &len);
  g_autofree char *v = ms_sv_variables_modify (node, value, len);

  ms_sv_variables_set (run, name, v, strlen (v));
  ms_sv_run_trace (run, "line %u: set %s = \"%s\"", node->line, name, ms_sv_variables_get (run, name));
  return TRUE;
}

/* ---------------------------------------------------------------- string */

static gboolean
validate_string (MsSvValidator *v, MsSvNode *node)
{
  return ms_sv_validate_match (v, node, node->pos[1]);
}

static int
test_string (MsSvRun *run, const MsSvNode *node)
{
  const MsSvMatch *m = node->data;
  const char *const *sources = ms_sv_expand_list (run, node->pos[0]);
  MsSvMatching st;

  ms_sv_match_begin (run, &st, m);
  for (guint i = 0; sources[i]; i++)
    {
      /* RFC 5229 5: with :count, empty strings are not counted */
      if (m->type == MS_MATCH_COUNT && *sources[i] == '\0')
        continue;
      if (ms_sv_match_value (run, &st, sources[i], strlen (sources[i])))
        return 1;
    }
  return ms_sv_match_end (run, &st);
}

const MsSvTagDef ms_sv_tags_modifiers[] = {
  { "lower", MS_SV_TAG_LOWER, 0, "case", NULL },
  { "upper", MS_SV_TAG_UPPER, 0, "case", NULL },
  { "lowerfirst", MS_SV_TAG_LOWERFIRST, 0, "first", NULL },
  { "upperfirst", MS_SV_TAG_UPPERFIRST, 0, "first", NULL },
  { "quotewildcard", MS_SV_TAG_QUOTEWILDCARD, 0, "quote", NULL },
  { "quoteregex", MS_SV_TAG_QUOTEREGEX, 0, "quote", "regex" },
  { "encodeurl", MS_SV_TAG_ENCODEURL, 0, NULL, "enotify" },
  { "length", MS_SV_TAG_LENGTH, 0, NULL, NULL },
  { NULL },
};
static const MsSvTagDef *const set_tag_tables[] = { ms_sv_tags_modifiers, NULL };
static const MsSvTagDef *const string_tags[] = { ms_sv_tags_match, NULL };
static const MsSvDef def_set = { "set", MS_SV_COMMAND, "ss", set_tag_tables, 0, FALSE, validate_set, exec_set, NULL };
static const MsSvDef def_string = { "string", MS_SV_TEST, "ll", string_tags, 0, FALSE,
                                    validate_string, NULL, test_string };
static const MsSvDef *const defs[] = { &def_set, &def_string, NULL };
const MsSvExtension ms_sv_ext_variables = { "variables", defs };
