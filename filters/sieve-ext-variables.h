/* mailsift Sieve engine - variables (RFC 5229): what other extensions
 * use to read and write named variables. */
#pragma once

#include "sieve-interp.h"

/* The value of variable @name (any case); "" when unset. Owned by the
 * run, valid until the variable is set again. */
const char *ms_sv_variables_get (MsSvRun *run, const char *name);
/* Set @name to @len bytes of @value, cut to MS_SV_MAX_VARIABLE_SIZE. */
void ms_sv_variables_set (MsSvRun *run, const char *name, const char *value, gsize len);
/* An identifier: a letter or '_' and then letters, digits and '_'. */
gboolean ms_sv_variables_name_is_valid (const char *name);

/* The modifiers of set (RFC 5229 4.1), which extracttext shares. */
enum {
  MS_SV_TAG_LOWER = MS_SV_TAG_OWN,
  MS_SV_TAG_UPPER,
  MS_SV_TAG_LOWERFIRST,
  MS_SV_TAG_UPPERFIRST,
  MS_SV_TAG_QUOTEWILDCARD,
  MS_SV_TAG_QUOTEREGEX,
  MS_SV_TAG_ENCODEURL,
  MS_SV_TAG_LENGTH,
  MS_SV_TAG_MODIFIERS_END, /* first id free after them */
};
extern const MsSvTagDef ms_sv_tags_modifiers[];
/* @len bytes of @value with @node's modifiers applied, in the order of
 * their precedence. Transfer full. */
char *ms_sv_variables_modify (const MsSvNode *node, const char *value, gsize len);
