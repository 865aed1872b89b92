/* mailsift Sieve engine - command, test and extension definitions.
 *
 * The validator (sieve-validate.c) is driven by these tables: a command
 * or test is a name, the shape of its positional arguments, its tags and
 * which of them exclude each other, whether it takes tests or a block,
 * and the hooks that compile and run it. An extension is a name and its
 * definitions; adding one is adding a file with an MsSvExtension and
 * listing it in sieve-extensions.c. */
#pragma once

#include "sieve-ast.h"

#include <glib.h>

typedef struct _MsSvValidator MsSvValidator;
typedef struct _MsSvRun MsSvRun;
typedef struct _MsSvScript MsSvScript;

typedef enum {
  MS_SV_COMMAND,
  MS_SV_TEST,
} MsSvDefKind;

/* Tag ids shared by many commands and tests; a definition's own tags use
 * ids from MS_SV_TAG_OWN up. */
enum {
  MS_SV_TAG_COMPARATOR = 0,
  MS_SV_TAG_IS,
  MS_SV_TAG_CONTAINS,
  MS_SV_TAG_MATCHES,
  MS_SV_TAG_REGEX,
  MS_SV_TAG_VALUE,
  MS_SV_TAG_COUNT,
  MS_SV_TAG_ALL,
  MS_SV_TAG_LOCALPART,
  MS_SV_TAG_DOMAIN,
  MS_SV_TAG_USER,
  MS_SV_TAG_DETAIL,
  MS_SV_TAG_INDEX,
  MS_SV_TAG_LAST,
  MS_SV_TAG_OWN, /* first id free for a definition's own tags */
};

struct _MsSvTagDef {
  const char *name;      /* without ':', lowercase */
  guint id;              /* < MS_SV_MAX_TAGS */
  char arg;              /* 0: none; 's' string; 'l' string list; 'n' number */
  const char *group;     /* tags of one group exclude each other; NULL: none */
  const char *extension; /* needed for this tag beyond the command's own */
};

struct _MsSvDef {
  const char *name;
  MsSvDefKind kind;
  const char *positional;            /* 's' string, 'l' string list, 'n' number,
                                      * '?' makes the rest optional */
  const MsSvTagDef *const *tags;     /* NULL-terminated list of {NULL}-terminated tables */
  int tests;                         /* 0 none, 1 exactly one, -1 a test list */
  gboolean block;                    /* takes a block */
  /* After the generic checks: more checks, compile node->data. FALSE
   * after reporting with ms_sv_validator_error. */
  gboolean (*validate) (MsSvValidator *v, MsSvNode *node);
  /* Command: FALSE on a runtime error (reported with ms_sv_run_error). */
  gboolean (*execute) (MsSvRun *run, const MsSvNode *node);
  /* Test: 1 true, 0 false, -1 runtime error. */
  int (*test) (MsSvRun *run, const MsSvNode *node);
};

typedef struct {
  const char *name;                  /* the require string */
  const MsSvDef *const *defs;        /* NULL-terminated; may be NULL (tags only) */
} MsSvExtension;

/* Shared tag tables. */
extern const MsSvTagDef ms_sv_tags_match[];        /* :comparator :is :contains :matches :regex :value :count */
extern const MsSvTagDef ms_sv_tags_address_part[]; /* :all :localpart :domain :user :detail */
extern const MsSvTagDef ms_sv_tags_index[];        /* :index :last */

/* Every extension mailsift knows, NULL-terminated (sieve-extensions.c). */
extern const MsSvExtension *const ms_sv_extensions[];
const MsSvExtension *ms_sv_extension_lookup (const char *name);

/* ---------------------------------------------------------------- validator API */

void ms_sv_validator_error (MsSvValidator *v, const MsSvNode *node, const MsSvArg *arg,
                            const char *fmt, ...) G_GNUC_PRINTF (4, 5);
void ms_sv_validator_warning (MsSvValidator *v, const MsSvNode *node, const MsSvArg *arg,
                              const char *fmt, ...) G_GNUC_PRINTF (4, 5);
gboolean ms_sv_validator_has_extension (MsSvValidator *v, const char *name);
/* The commands whose blocks enclose the node being validated
 * (MsSvNode*, resolved), outermost first: how break finds its loop. */
const GPtrArray *ms_sv_validator_enclosing (MsSvValidator *v);
/* The script's path (for include), and the directories include uses. */
const char *ms_sv_validator_script_path (MsSvValidator *v);
MsSvScript *ms_sv_validator_script (MsSvValidator *v);
