/* mailsift Sieve engine - the syntax tree (stage 2 of 5: lexer, parser,
 * validator, interpreter, result).
 *
 * The parser builds it; the validator resolves every node against the
 * command and test definitions (sieve-def.h) and stores what it resolved
 * in the node, so the interpreter never looks a name up again. A compiled
 * script is this tree after validation. Every string is owned by its
 * node. */
#pragma once

#include <glib.h>

typedef enum {
  MS_SV_ARG_STRING,  /* "..." or text: - also a one-element list */
  MS_SV_ARG_LIST,    /* [ "a", "b" ] */
  MS_SV_ARG_NUMBER,  /* 10, 10K, 10M, 10G */
  MS_SV_ARG_TAG,     /* :name */
} MsSvArgKind;

typedef struct {
  char *str;         /* NUL-terminated; may contain NUL before len */
  gsize len;
  gboolean vars;     /* contains "${" and variables is required */
} MsSvStr;

typedef struct {
  MsSvArgKind kind;
  guint line, col;
  GArray *strings;   /* MsSvStr: STRING (one) and LIST */
  const char **strv; /* set by the validator when no string uses variables:
                      * every str, NULL-terminated, what ms_sv_expand_list
                      * gives (the pointers are the strings' own) */
  guint64 number;    /* NUMBER, quantifier applied */
  char *tag;         /* TAG, lowercase, without the ':' */
} MsSvArg;

typedef struct _MsSvDef MsSvDef;
typedef struct _MsSvTagDef MsSvTagDef;

#define MS_SV_MAX_TAGS 32
#define MS_SV_MAX_POS 4

typedef struct _MsSvNode MsSvNode;
struct _MsSvNode {
  char *name;            /* identifier, lowercase */
  guint line, col;
  gboolean is_test;
  GPtrArray *args;       /* MsSvArg*, as written */
  GPtrArray *tests;      /* MsSvNode* (a test or a test list); NULL for none */
  gboolean test_list;    /* the tests were written as ( ... ) */
  GPtrArray *block;      /* MsSvNode* commands; NULL when there is no block */

  /* filled by the validator */
  const MsSvDef *def;
  MsSvArg *tagval[MS_SV_MAX_TAGS]; /* by tag id: its argument, or the tag itself */
  guint32 tagmask;                 /* bit id set: the tag was given */
  MsSvArg *pos[MS_SV_MAX_POS];     /* positional arguments in order */
  guint npos;
  gpointer data;                   /* per-definition compiled data */
  GDestroyNotify data_free;
};

MsSvArg *ms_sv_arg_new (MsSvArgKind kind, guint line, guint col);
void ms_sv_arg_free (MsSvArg *arg);
void ms_sv_arg_add_string (MsSvArg *arg, char *str /* transfer full */, gsize len);
MsSvNode *ms_sv_node_new (const char *name, guint line, guint col, gboolean is_test);
void ms_sv_node_free (MsSvNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSvNode, ms_sv_node_free)

static inline const MsSvStr *
ms_sv_arg_str (const MsSvArg *arg, guint i)
{
  return &g_array_index (arg->strings, MsSvStr, i);
}

static inline gboolean
ms_sv_node_has_tag (const MsSvNode *node, guint id)
{
  return (node->tagmask >> id) & 1;
}
