/* mailsift Sieve engine - the lexer (stage 1 of 5).
 *
 * Turns script text into tokens (RFC 5228 section 8.1): identifiers,
 * tags, numbers with K/M/G, quoted strings (unescaped here) and text:
 * blocks (dot-unstuffed), punctuation. Comments and white space are
 * skipped. Every token carries its line and column (1-based; columns
 * count bytes). Errors are reported through the parser's diagnostics. */
#pragma once

#include <glib.h>

typedef enum {
  MS_SV_TOK_EOF,
  MS_SV_TOK_IDENT,
  MS_SV_TOK_TAG,
  MS_SV_TOK_NUMBER,
  MS_SV_TOK_STRING,
  MS_SV_TOK_PUNCT, /* one of ; , ( ) [ ] { } */
  MS_SV_TOK_ERROR, /* the lexer already reported it; skip */
} MsSvTokKind;

typedef struct {
  MsSvTokKind kind;
  guint line, col;
  char punct;
  guint64 number;
  GString *text;   /* IDENT and TAG (lowercase), STRING (value) */
  gboolean multiline;
} MsSvToken;

typedef struct _MsSvLexer MsSvLexer;

/* Report an error at LINE:COL; implemented by the parser. */
typedef void (*MsSvErrorFunc) (gpointer user, guint line, guint col, const char *fmt, ...)
  G_GNUC_PRINTF (4, 5);

/* @text need not be NUL-terminated. @text must outlive the lexer. */
MsSvLexer *ms_sv_lexer_new (const char *text, gsize len, MsSvErrorFunc error, gpointer user);
void ms_sv_lexer_free (MsSvLexer *lexer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSvLexer, ms_sv_lexer_free)

/* The next token; the returned token is owned by the lexer and valid
 * until the next call. */
const MsSvToken *ms_sv_lexer_next (MsSvLexer *lexer);
