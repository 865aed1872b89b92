/* mailsift Sieve engine - the parser (stage 2). See sieve-parser.h. */
#include "sieve-parser.h"

#include "sieve-lexer.h"

#include <stdarg.h>
#include <string.h>

/* ---------------------------------------------------------------- tree */

MsSvArg *
ms_sv_arg_new (MsSvArgKind kind, guint line, guint col)
{
  MsSvArg *a = g_new0 (MsSvArg, 1);

  a->kind = kind;
  a->line = line;
  a->col = col;
  if (kind == MS_SV_ARG_STRING || kind == MS_SV_ARG_LIST)
    a->strings = g_array_new (FALSE, TRUE, sizeof (MsSvStr));
  return a;
}

void
ms_sv_arg_free (MsSvArg *a)
{
  if (a == NULL)
    return;
  for (guint i = 0; a->strings && i < a->strings->len; i++)
    g_free (g_array_index (a->strings, MsSvStr, i).str);
  if (a->strings)
    g_array_unref (a->strings);
  g_free (a->strv);
  g_free (a->tag);
  g_free (a);
}

void
ms_sv_arg_add_string (MsSvArg *a, char *str, gsize len)
{
  MsSvStr s = { str, len, FALSE };

  g_array_append_val (a->strings, s);
}

MsSvNode *
ms_sv_node_new (const char *name, guint line, guint col, gboolean is_test)
{
  MsSvNode *n = g_new0 (MsSvNode, 1);

  n->name = g_strdup (name);
  n->line = line;
  n->col = col;
  n->is_test = is_test;
  n->args = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_sv_arg_free);
  return n;
}

void
ms_sv_node_free (MsSvNode *n)
{
  if (n == NULL)
    return;
  if (n->data && n->data_free)
    n->data_free (n->data);
  g_ptr_array_unref (n->args);
  if (n->tests)
    g_ptr_array_unref (n->tests);
  if (n->block)
    g_ptr_array_unref (n->block);
  g_free (n->name);
  g_free (n);
}

/* ---------------------------------------------------------------- diagnostics */

static void
diag_add (GPtrArray *into, const char *level, guint line, guint col, const char *fmt, va_list ap)
{
  g_autofree char *text = g_strdup_vprintf (fmt, ap);

  if (into)
    g_ptr_array_add (into, g_strdup_printf ("%u:%u: %s: %s", line, col, level, text));
}

void
ms_sv_diag_error (MsSvDiag *diag, guint line, guint col, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  diag_add (diag->errors, "error", line, col, fmt, ap);
  va_end (ap);
}

void
ms_sv_diag_warning (MsSvDiag *diag, guint line, guint col, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  diag_add (diag->warnings, "warning", line, col, fmt, ap);
  va_end (ap);
}

/* ---------------------------------------------------------------- parser */

/* The most errors reported for one script: after that the rest is noise. */
#define MAX_ERRORS 50

typedef struct {
  MsSvLexer *lx;
  MsSvDiag *diag;
  /* one token of look-ahead, copied out of the lexer */
  MsSvTokKind kind;
  guint line, col;
  char punct;
  guint64 number;
  GString *text;
  guint depth;       /* tests */
  guint block_depth; /* blocks */
} Parser;

static void
lexer_error (gpointer user, guint line, guint col, const char *fmt, ...)
{
  Parser *ps = user;
  va_list ap;

  if (ps->diag->errors->len >= MAX_ERRORS)
    return;
  va_start (ap, fmt);
  diag_add (ps->diag->errors, "error", line, col, fmt, ap);
  va_end (ap);
}

static void
advance (Parser *ps)
{
  const MsSvToken *t;

  do
    t = ms_sv_lexer_next (ps->lx);
  while (t->kind == MS_SV_TOK_ERROR);
  ps->kind = t->kind;
  ps->line = t->line;
  ps->col = t->col;
  ps->punct = t->punct;
  ps->number = t->number;
  g_string_assign (ps->text, t->text->str);
  /* strings may hold NUL bytes: copy by length */
  if (t->kind == MS_SV_TOK_STRING)
    {
      g_string_truncate (ps->text, 0);
      g_string_append_len (ps->text, t->text->str, t->text->len);
    }
}

static gboolean
at_punct (Parser *ps, char c)
{
  return ps->kind == MS_SV_TOK_PUNCT && ps->punct == c;
}

static const char *
describe (Parser *ps)
{
  static char buf[64];

  switch (ps->kind)
    {
    case MS_SV_TOK_EOF: return "the end of the script";
    case MS_SV_TOK_IDENT: g_snprintf (buf, sizeof buf, "'%.40s'", ps->text->str); return buf;
    case MS_SV_TOK_TAG: g_snprintf (buf, sizeof buf, "':%.40s'", ps->text->str); return buf;
    case MS_SV_TOK_NUMBER: return "a number";
    case MS_SV_TOK_STRING: return "a string";
    case MS_SV_TOK_PUNCT: g_snprintf (buf, sizeof buf, "'%c'", ps->punct); return buf;
    case MS_SV_TOK_ERROR: break;
    }
  return "a bad token";
}

static void
error_here (Parser *ps, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
static void
error_here (Parser *ps, const char *fmt, ...)
{
  va_list ap;

  if (ps->diag->errors->len >= MAX_ERRORS)
    return;
  va_start (ap, fmt);
  diag_add (ps->diag->errors, "error", ps->line, ps->col, fmt, ap);
  va_end (ap);
}

/* Skip to just after the next ';' or over the next block at this level,
 * or to a '}' that closes the enclosing block (not consumed). */
static void
recover (Parser *ps)
{
  int depth = 0;

  for (;;)
    {
      if (ps->kind == MS_SV_TOK_EOF)
        return;
      if (ps->kind == MS_SV_TOK_PUNCT)
        {
          if (ps->punct == ';' && depth == 0)
            {
              advance (ps);
              return;
            }
          if (ps->punct == '{')
            depth++;
          else if (ps->punct == '}')
            {
              if (depth == 0)
                return;
              if (--depth == 0)
                {
                  advance (ps);
                  return;
                }
            }
        }
      advance (ps);
    }
}

static MsSvArg *
parse_string_list (Parser *ps)
{
  MsSvArg *a = ms_sv_arg_new (MS_SV_ARG_LIST, ps->line, ps->col);

  advance (ps); /* [ */
  for (;;)
    {
      if (ps->kind != MS_SV_TOK_STRING)
        {
          error_here (ps, "expected a string in the string list, found %s", describe (ps));
          ms_sv_arg_free (a);
          return NULL;
        }
      ms_sv_arg_add_string (a, g_strndup (ps->text->str, ps->text->len), ps->text->len);
      advance (ps);
      if (at_punct (ps, ']'))
        {
          advance (ps);
          return a;
        }
      if (!at_punct (ps, ','))
        {
          error_here (ps, "expected ',' or ']' in the string list, found %s", describe (ps));
          ms_sv_arg_free (a);
          return NULL;
        }
      advance (ps);
    }
}

static MsSvNode *parse_test (Parser *ps);

/* arguments = *argument [ test / test-list ]. FALSE after an error. */
static gboolean
parse_arguments (Parser *ps, MsSvNode *node, gboolean allow_tests)
{
  for (;;)
    {
      MsSvArg *a = NULL;

      if (ps->kind == MS_SV_TOK_STRING)
        {
          a = ms_sv_arg_new (MS_SV_ARG_STRING, ps->line, ps->col);
          ms_sv_arg_add_string (a, g_strndup (ps->text->str, ps->text->len), ps->text->len);
          advance (ps);
        }
      else if (ps->kind == MS_SV_TOK_NUMBER)
        {
          a = ms_sv_arg_new (MS_SV_ARG_NUMBER, ps->line, ps->col);
          a->number = ps->number;
          advance (ps);
        }
      else if (ps->kind == MS_SV_TOK_TAG)
        {
          a = ms_sv_arg_new (MS_SV_ARG_TAG, ps->line, ps->col);
          a->tag = g_strdup (ps->text->str);
          advance (ps);
        }
      else if (at_punct (ps, '['))
        {
          if ((a = parse_string_list (ps)) == NULL)
            return FALSE;
        }
      else
        break;
      g_ptr_array_add (node->args, a);
    }

  if (ps->kind == MS_SV_TOK_IDENT && allow_tests)
    {
      MsSvNode *t = parse_test (ps);
      if (t == NULL)
        return FALSE;
      node->tests = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_sv_node_free);
      g_ptr_array_add (node->tests, t);
    }
  else if (at_punct (ps, '(') && allow_tests)
    {
      node->tests = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_sv_node_free);
      node->test_list = TRUE;
      advance (ps);
      for (;;)
        {
          MsSvNode *t;
          if (ps->kind != MS_SV_TOK_IDENT)
            {
              error_here (ps, "expected a test in the test list, found %s", describe (ps));
              return FALSE;
            }
          if ((t = parse_test (ps)) == NULL)
            return FALSE;
          g_ptr_array_add (node->tests, t);
          if (at_punct (ps, ')'))
            {
              advance (ps);
              break;
            }
          if (!at_punct (ps, ','))
            {
              error_here (ps, "expected ',' or ')' in the test list, found %s", describe (ps));
              return FALSE;
            }
          advance (ps);
        }
    }
  return TRUE;
}

static MsSvNode *
parse_test (Parser *ps)
{
  g_autoptr (MsSvNode) t = NULL;

  if (++ps->depth > MS_SV_MAX_TEST_DEPTH)
    {
      error_here (ps, "tests nested deeper than %d", MS_SV_MAX_TEST_DEPTH);
      ps->depth--;
      return NULL;
    }
  t = ms_sv_node_new (ps->text->str, ps->line, ps->col, TRUE);
  advance (ps);
  if (!parse_arguments (ps, t, TRUE))
    {
      ps->depth--;
      return NULL;
    }
  ps->depth--;
  return g_steal_pointer (&t);
}

static GPtrArray *parse_commands (Parser *ps, gboolean in_block);

/* command = identifier arguments (";" / block) */
static MsSvNode *
parse_command (Parser *ps)
{
  g_autoptr (MsSvNode) c = ms_sv_node_new (ps->text->str, ps->line, ps->col, FALSE);

  advance (ps);
  if (!parse_arguments (ps, c, TRUE))
    {
      recover (ps);
      return NULL;
    }
  if (at_punct (ps, ';'))
    {
      advance (ps);
      return g_steal_pointer (&c);
    }
  if (at_punct (ps, '{'))
    {
      if (ps->block_depth >= MS_SV_MAX_BLOCK_DEPTH)
        {
          error_here (ps, "blocks nested deeper than %d", MS_SV_MAX_BLOCK_DEPTH);
          recover (ps);
          return NULL;
        }
      ps->block_depth++;
      advance (ps);
      c->block = parse_commands (ps, TRUE);
      ps->block_depth--;
      if (!at_punct (ps, '}'))
        {
          error_here (ps, "expected '}' to close the block opened at line %u, found %s", c->line,
                      describe (ps));
          return NULL;
        }
      advance (ps);
      return g_steal_pointer (&c);
    }
  if (ps->kind == MS_SV_TOK_IDENT || ps->kind == MS_SV_TOK_EOF || at_punct (ps, '}'))
    error_here (ps, "missing ';' after the command '%s' (line %u)", c->name, c->line);
  else
    error_here (ps, "expected ';' or '{' after the arguments of '%s', found %s", c->name, describe (ps));
  recover (ps);
  return NULL;
}

static GPtrArray *
parse_commands (Parser *ps, gboolean in_block)
{
  GPtrArray *cmds = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_sv_node_free);

  for (;;)
    {
      if (ps->kind == MS_SV_TOK_EOF)
        break;
      if (at_punct (ps, '}'))
        {
          if (in_block)
            break;
          error_here (ps, "unexpected '}' with no open block");
          advance (ps);
          continue;
        }
      if (ps->kind != MS_SV_TOK_IDENT)
        {
          error_here (ps, "expected a command, found %s", describe (ps));
          recover (ps);
          continue;
        }
      MsSvNode *c = parse_command (ps);
      if (c)
        g_ptr_array_add (cmds, c);
    }
  return cmds;
}

GPtrArray *
ms_sv_parse (const char *text, gsize len, MsSvDiag *diag)
{
  Parser ps = { 0 };
  GPtrArray *cmds;

  ps.diag = diag;
  ps.text = g_string_new (NULL);
  ps.lx = ms_sv_lexer_new (text, len, lexer_error, &ps);
  advance (&ps);
  cmds = parse_commands (&ps, FALSE);
  ms_sv_lexer_free (ps.lx);
  g_string_free (ps.text, TRUE);
  return cmds;
}
