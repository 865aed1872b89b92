/* mailsift Sieve engine - the lexer (stage 1). See sieve-lexer.h. */
#include "sieve-lexer.h"

#include <string.h>

struct _MsSvLexer {
  const char *p, *end;
  guint line;
  const char *line_start;
  MsSvErrorFunc error;
  gpointer user;
  MsSvToken tok;
};

MsSvLexer *
ms_sv_lexer_new (const char *text, gsize len, MsSvErrorFunc error, gpointer user)
{
  MsSvLexer *lx = g_new0 (MsSvLexer, 1);

  lx->p = text;
  lx->end = text + len;
  lx->line = 1;
  lx->line_start = text;
  lx->error = error;
  lx->user = user;
  lx->tok.text = g_string_new (NULL);
  return lx;
}

void
ms_sv_lexer_free (MsSvLexer *lx)
{
  if (lx == NULL)
    return;
  g_string_free (lx->tok.text, TRUE);
  g_free (lx);
}

static guint
column (MsSvLexer *lx, const char *at)
{
  return (guint) (at - lx->line_start) + 1;
}

static void
newline (MsSvLexer *lx, const char *after)
{
  lx->line++;
  lx->line_start = after;
}

/* Skip white space and comments. FALSE after reporting an unterminated
 * bracket comment. */
static gboolean
skip_space (MsSvLexer *lx)
{
  while (lx->p < lx->end)
    {
      char c = *lx->p;
      if (c == '\n')
        {
          lx->p++;
          newline (lx, lx->p);
        }
      else if (c == ' ' || c == '\t' || c == '\r')
        lx->p++;
      else if (c == '#')
        {
          while (lx->p < lx->end && *lx->p != '\n')
            lx->p++;
        }
      else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*')
        {
          guint line = lx->line, col = column (lx, lx->p);
          lx->p += 2;
          for (;;)
            {
              if (lx->p >= lx->end)
                {
                  lx->error (lx->user, line, col, "unterminated comment: '/*' has no '*/'");
                  return FALSE;
                }
              if (*lx->p == '*' && lx->p + 1 < lx->end && lx->p[1] == '/')
                {
                  lx->p += 2;
                  break;
                }
              if (*lx->p == '\n')
                newline (lx, lx->p + 1);
              lx->p++;
            }
        }
      else
        break;
    }
  return TRUE;
}

static gboolean
is_ident_start (char c)
{
  return g_ascii_isalpha (c) || c == '_';
}

static gboolean
is_ident_char (char c)
{
  return g_ascii_isalnum (c) || c == '_';
}

static void
lex_quoted (MsSvLexer *lx, MsSvToken *t)
{
  lx->p++; /* the opening quote */
  for (;;)
    {
      if (lx->p >= lx->end)
        {
          lx->error (lx->user, t->line, t->col, "unterminated string: the closing '\"' is missing");
          t->kind = MS_SV_TOK_ERROR;
          return;
        }
      char c = *lx->p;
      if (c == '"')
        {
          lx->p++;
          return;
        }
      if (c == '\\' && lx->p + 1 < lx->end)
        {
          /* RFC 5228 2.4.2: \" and \\ are escapes; any other \x is x */
          lx->p++;
          c = *lx->p;
        }
      if (c == '\n')
        newline (lx, lx->p + 1);
      g_string_append_c (t->text, c);
      lx->p++;
    }
}

/* text: [white space or a hash comment] CRLF, then lines up to ".CRLF";
 * a line starting with ".." loses one dot. */
static void
lex_multiline (MsSvLexer *lx, MsSvToken *t)
{
  lx->p += 5; /* "text:" */
  while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
    lx->p++;
  if (lx->p < lx->end && *lx->p == '#')
    while (lx->p < lx->end && *lx->p != '\n')
      lx->p++;
  if (lx->p < lx->end && *lx->p == '\r')
    lx->p++;
  if (lx->p >= lx->end || *lx->p != '\n')
    {
      lx->error (lx->user, lx->line, column (lx, lx->p),
                 "text: must be followed by the end of the line");
      t->kind = MS_SV_TOK_ERROR;
      return;
    }
  lx->p++;
  newline (lx, lx->p);
  for (;;)
    {
      const char *eol;
      gsize n;

      if (lx->p >= lx->end)
        {
          lx->error (lx->user, t->line, t->col,
                     "unterminated text: block: a line holding only '.' must end it");
          t->kind = MS_SV_TOK_ERROR;
          return;
        }
      eol = memchr (lx->p, '\n', lx->end - lx->p);
      n = eol ? (gsize) (eol - lx->p) : (gsize) (lx->end - lx->p);
      if ((n == 1 && lx->p[0] == '.') || (n == 2 && lx->p[0] == '.' && lx->p[1] == '\r'))
        {
          lx->p += n + (eol ? 1 : 0);
          if (eol)
            newline (lx, lx->p);
          return;
        }
      {
        const char *from = lx->p;
        gsize len = n;
        if (len >= 2 && from[0] == '.' && from[1] == '.')
          from++, len--;
        /* line breaks stay as the script has them (LF or CRLF), as
         * Pigeonhole keeps them */
        g_string_append_len (t->text, from, len);
        if (eol)
          g_string_append_c (t->text, '\n');
      }
      lx->p += n;
      if (eol)
        {
          lx->p++;
          newline (lx, lx->p);
        }
    }
}

const MsSvToken *
ms_sv_lexer_next (MsSvLexer *lx)
{
  MsSvToken *t = &lx->tok;
  char c;

  g_string_truncate (t->text, 0);
  t->multiline = FALSE;
  t->number = 0;
  t->punct = 0;
  if (!skip_space (lx))
    {
      t->kind = MS_SV_TOK_EOF;
      return t;
    }
  t->line = lx->line;
  t->col = column (lx, lx->p);
  if (lx->p >= lx->end)
    {
      t->kind = MS_SV_TOK_EOF;
      return t;
    }
  c = *lx->p;
  if (c == '"')
    {
      t->kind = MS_SV_TOK_STRING;
      lex_quoted (lx, t);
      return t;
    }
  if (strchr (";,()[]{}", c) && c != '\0')
    {
      t->kind = MS_SV_TOK_PUNCT;
      t->punct = c;
      lx->p++;
      return t;
    }
  if (c == ':' && lx->p + 1 < lx->end && is_ident_start (lx->p[1]))
    {
      lx->p++;
      t->kind = MS_SV_TOK_TAG;
      while (lx->p < lx->end && is_ident_char (*lx->p))
        g_string_append_c (t->text, g_ascii_tolower (*lx->p++));
      return t;
    }
  if (g_ascii_isdigit (c))
    {
      guint64 n = 0, mult = 1;
      gboolean overflow = FALSE;
      while (lx->p < lx->end && g_ascii_isdigit (*lx->p))
        {
          if (n > (G_MAXUINT64 - 9) / 10)
            overflow = TRUE;
          n = n * 10 + (guint64) (*lx->p++ - '0');
        }
      if (lx->p < lx->end)
        switch (g_ascii_toupper (*lx->p))
          {
          case 'K': mult = 1024; lx->p++; break;
          case 'M': mult = 1024 * 1024; lx->p++; break;
          case 'G': mult = 1024 * 1024 * 1024; lx->p++; break;
          default: break;
          }
      if (lx->p < lx->end && is_ident_char (*lx->p))
        {
          lx->error (lx->user, t->line, t->col, "bad number: a number is digits and an optional K, M or G");
          while (lx->p < lx->end && is_ident_char (*lx->p))
            lx->p++;
          t->kind = MS_SV_TOK_ERROR;
          return t;
        }
      if (overflow || n > G_MAXUINT64 / mult)
        {
          lx->error (lx->user, t->line, t->col, "number too large");
          t->kind = MS_SV_TOK_ERROR;
          return t;
        }
      t->kind = MS_SV_TOK_NUMBER;
      t->number = n * mult;
      return t;
    }
  if (is_ident_start (c))
    {
      const char *s = lx->p;
      while (lx->p < lx->end && is_ident_char (*lx->p))
        lx->p++;
      if (lx->p - s == 4 && g_ascii_strncasecmp (s, "text", 4) == 0 && lx->p < lx->end && *lx->p == ':')
        {
          lx->p = s;
          t->kind = MS_SV_TOK_STRING;
          t->multiline = TRUE;
          lex_multiline (lx, t);
          return t;
        }
      t->kind = MS_SV_TOK_IDENT;
      for (; s < lx->p; s++)
        g_string_append_c (t->text, g_ascii_tolower (*s));
      return t;
    }
  if (c == '\0')
    lx->error (lx->user, t->line, t->col, "a NUL byte in the script");
  else if ((guchar) c < 0x20 || (guchar) c >= 0x7f)
    lx->error (lx->user, t->line, t->col, "unexpected byte 0x%02x", (guchar) c);
  else
    lx->error (lx->user, t->line, t->col, "unexpected character '%c'", c);
  lx->p++;
  /* skip the rest of a run of bad bytes so one problem is one error */
  while (lx->p < lx->end && ((guchar) *lx->p >= 0x80 || *lx->p == '\0'))
    lx->p++;
  t->kind = MS_SV_TOK_ERROR;
  return t;
}
