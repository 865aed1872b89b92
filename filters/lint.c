#include "lint.h"

#include <string.h>

typedef enum { T_WORD, T_TAG, T_STRING, T_TEXT, T_NUMBER, T_PUNCT } TokKind;

typedef struct {
  TokKind kind;
  guint line;
  char *text;      /* raw: strings without the quotes, escapes kept */
  guint64 number;  /* T_NUMBER, with its K/M/G quantifier applied */
} Tok;

static void
tok_free (gpointer p)
{
  Tok *t = p;
  g_free (t->text);
  g_free (t);
}

static void
push (GPtrArray *toks, TokKind kind, guint line, const char *start, gsize len)
{
  Tok *t = g_new0 (Tok, 1);

  t->kind = kind;
  t->line = line;
  t->text = g_strndup (start, len);
  g_ptr_array_add (toks, t);
}

/* A forgiving lexer for RFC 5228 section 8.1: good enough to find
 * commands, tags, strings and numbers with their line numbers. libsieve
 * itself reports real syntax errors. */
static GPtrArray *
tokenize (const char *s)
{
  GPtrArray *toks = g_ptr_array_new_with_free_func (tok_free);
  guint line = 1;
  const char *p = s;

  while (*p)
    {
      if (*p == '\n')
        line++, p++;
      else if (g_ascii_isspace (*p))
        p++;
      else if (*p == '#')
        while (*p && *p != '\n')
          p++;
      else if (p[0] == '/' && p[1] == '*')
        {
          for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
            if (*p == '\n')
              line++;
          if (*p)
            p += 2;
        }
      else if (*p == '"')
        {
          const char *start = ++p;
          guint first = line;
          while (*p && *p != '"')
            {
              if (*p == '\\' && p[1])
                p++;
              if (*p == '\n')
                line++;
              p++;
            }
          push (toks, T_STRING, first, start, p - start);
          if (*p)
            p++;
        }
      else if (g_str_has_prefix (p, "text:"))
        {
          /* text: ... CRLF ... "." CRLF */
          guint first = line;
          const char *start = strchr (p, '\n');
          const char *end;
          if (start == NULL)
            break;
          start++;
          line++;
          for (end = start; *end; )
            {
              const char *nl = strchr (end, '\n');
              if ((end[0] == '.' && (end[1] == '\n' || (end[1] == '\r' && end[2] == '\n'))))
                break;
              if (nl == NULL)
                {
                  end += strlen (end);
                  break;
                }
              end = nl + 1;
              line++;
            }
          push (toks, T_TEXT, first, start, end - start);
          p = *end ? strchr (end, '\n') : end;
          if (p && *p)
            p++, line++;
          else
            p = end;
        }
      else if (*p == ':' || g_ascii_isalpha (*p) || *p == '_')
        {
          const char *start = p++;
          while (g_ascii_isalnum (*p) || *p == '_')
            p++;
          push (toks, *start == ':' ? T_TAG : T_WORD, line, start, p - start);
        }
      else if (g_ascii_isdigit (*p))
        {
          const char *start = p;
          Tok *t;
          guint64 n = g_ascii_strtoull (p, (char **) &p, 10);
          switch (g_ascii_toupper (*p))
            {
            case 'K': n <<= 10, p++; break;
            case 'M': n <<= 20, p++; break;
            case 'G': n <<= 30, p++; break;
            default: break;
            }
          push (toks, T_NUMBER, line, start, p - start);
          t = toks->pdata[toks->len - 1];
          t->number = n;
        }
      else
        push (toks, T_PUNCT, line, p++, 1);
    }
  return toks;
}

static void
say (GPtrArray *into, guint line, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
say (GPtrArray *into, guint line, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  if (into == NULL)
    return;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_ptr_array_add (into, g_strdup_printf ("%u: %s", line, msg));
}

static gboolean
is_word (const Tok *t, const char *w)
{
  return t->kind == T_WORD && g_ascii_strcasecmp (t->text, w) == 0;
}

static gboolean
is_tag (const Tok *t, const char *w)
{
  return t->kind == T_TAG && g_ascii_strcasecmp (t->text, w) == 0;
}

/* Which extension a word or tag needs; libsieve accepts these without
 * require, Pigeonhole (and RFC 5228 3.2) do not. */
static const struct { TokKind kind; const char *name; const char *ext; } needs[] = {
  { T_WORD, "envelope", "envelope" },    { T_TAG, ":count", "relational" },
  { T_TAG, ":value", "relational" },     { T_TAG, ":regex", "regex" },
  { T_WORD, "setflag", "imap4flags" },   { T_WORD, "addflag", "imap4flags" },
  { T_WORD, "removeflag", "imap4flags" }, { T_WORD, "hasflag", "imap4flags" },
  { T_TAG, ":flags", "imap4flags" },     { T_TAG, ":user", "subaddress" },
  { T_TAG, ":detail", "subaddress" },    { T_WORD, "vacation", "vacation" },
  { T_WORD, "reject", "reject" },        { T_WORD, "fileinto", "fileinto" },
};

static const char *const known_comparators[] = { "i;octet", "i;ascii-casemap", "i;ascii-numeric", NULL };
static const char *const known_relations[] = { "gt", "ge", "lt", "le", "eq", "ne", NULL };

void
ms_lint_script (const char *script, GPtrArray *errors, GPtrArray *warnings)
{
  g_autoptr (GPtrArray) toks = tokenize (script);
  g_autoptr (GHashTable) required = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) reported = g_hash_table_new (g_str_hash, g_str_equal);
  guint addflag_line = 0;
  gboolean escape_warned = FALSE;
  gboolean in_test = FALSE; /* between if/elsif and its block */

  /* require lists come first in a script, but collect them all anyway */
  for (guint i = 0; i + 1 < toks->len; i++)
    if (is_word (toks->pdata[i], "require"))
      for (guint j = i + 1; j < toks->len; j++)
        {
          Tok *t = toks->pdata[j];
          if (t->kind == T_STRING)
            g_hash_table_add (required, g_ascii_strdown (t->text, -1));
          else if (t->kind == T_PUNCT && t->text[0] == ';')
            break;
        }

  for (guint i = 0; i < toks->len; i++)
    {
      Tok *t = toks->pdata[i];
      Tok *next = i + 1 < toks->len ? toks->pdata[i + 1] : NULL;

      for (guint n = 0; n < G_N_ELEMENTS (needs); n++)
        if (t->kind == needs[n].kind && g_ascii_strcasecmp (t->text, needs[n].name) == 0
            && !g_hash_table_contains (required, needs[n].ext)
            && !g_hash_table_contains (reported, needs[n].ext))
          {
            g_hash_table_add (reported, (gpointer) needs[n].ext);
            say (errors, t->line, "%s used without require \"%s\"", t->text, needs[n].ext);
          }

      if (is_word (t, "if") || is_word (t, "elsif"))
        in_test = TRUE;
      else if (t->kind == T_PUNCT && t->text[0] == '{')
        in_test = FALSE;

      if (is_word (t, "hasflag"))
        for (guint j = i + 1; j < toks->len; j++)
          {
            Tok *u = toks->pdata[j];
            if (u->kind == T_PUNCT && strchr (";{", u->text[0]))
              break;
            if (is_tag (u, ":is") || is_tag (u, ":contains") || is_tag (u, ":matches")
                || is_tag (u, ":regex") || is_tag (u, ":count") || is_tag (u, ":value"))
              {
                say (errors, u->line, "hasflag with %s crashes libsieve 2.2.6; "
                     "use hasflag without a match type", u->text);
                break;
              }
          }
      if (is_word (t, "addflag") && addflag_line == 0)
        addflag_line = t->line;
      if (is_word (t, "setflag"))
        {
          if (addflag_line)
            say (errors, t->line, "setflag after addflag (line %u) corrupts libsieve 2.2.6's "
                 "memory; use only addflag/removeflag, or setflag before any addflag", addflag_line);
          if (next && next->kind == T_PUNCT && next->text[0] == '[')
            say (warnings, t->line, "libsieve 2.2.6 keeps only the first flag of a list given to "
                 "setflag; use one string with the flags separated by spaces");
        }
      if (is_tag (t, ":comparator") && next && next->kind == T_STRING
          && !g_strv_contains (known_comparators, next->text))
        say (errors, next->line, "unknown comparator \"%s\" (known: i;octet, i;ascii-casemap, "
             "i;ascii-numeric)", next->text);
      if ((is_tag (t, ":count") || is_tag (t, ":value")) && next && next->kind == T_STRING
          && !g_strv_contains (known_relations, next->text))
        say (errors, next->line, "unknown relation \"%s\" (known: gt ge lt le eq ne)", next->text);
      if (is_tag (t, ":matches"))
        for (guint j = i + 1; j < toks->len; j++)
          {
            Tok *u = toks->pdata[j];
            guint stars = 0;
            if (u->kind == T_PUNCT && strchr (";{", u->text[0]))
              break;
            if (u->kind != T_STRING)
              continue;
            for (const char *c = u->text; *c; c++)
              stars += *c == '*';
            if (stars >= 3)
              say (warnings, u->line, "\"%s\" has %u '*': libsieve's :matches backtracks "
                   "exponentially and may hit filter_timeout on long headers (the message is "
                   "then kept unfiltered); prefer :contains", u->text, stars);
          }
      if (t->kind == T_NUMBER && t->number >= G_GUINT64_CONSTANT (2147483648))
        say (errors, t->line, "%s is 2G or more: libsieve 2.2.6 overflows it (size :over 3G "
             "becomes :over 0)", t->text);
      if (in_test && t->kind == T_STRING && strchr (t->text, '\\') && !escape_warned)
        {
          escape_warned = TRUE;
          say (warnings, t->line, "libsieve does not unescape strings in tests: \"%s\" is "
               "compared with its backslashes (mailsift unescapes folder names, flags and "
               "addresses in actions)", t->text);
        }
      if (t->kind == T_TEXT && strlen (t->text) >= 255)
        say (warnings, t->line, "a text: string of 255 bytes or more can overflow a buffer in "
             "libsieve 2.2.6 (the filter process may crash and the message is then kept)");
      if (is_word (t, "denotify"))
        say (errors, t->line, "denotify is not supported by libsieve");
    }
}

gboolean
ms_lint_script_has_tag (const char *script, const char *tag)
{
  g_autoptr (GPtrArray) toks = tokenize (script);

  for (guint i = 0; i < toks->len; i++)
    if (is_tag (toks->pdata[i], tag))
      return TRUE;
  return FALSE;
}
