/* mailsift - the internals of the configuration's key table, shared by
 * config-keys.c (the table, and parsing values through it) and config.c
 * (reading and checking the file). Included by those two files only:
 * the API is config.h. */
#pragma once

#include "config.h"

#include <glib.h>

/* The key @name of @group ("general", "account" or "smtp"), or NULL. */
const MsConfigKey *ms_config_find_key (const char *group, const char *name);

/* The key of @group whose name is nearest to @name, for "did you mean";
 * NULL when none is near enough. */
const MsConfigKey *ms_config_closest_key (const char *group, const char *name);

/* Parse one value in file syntax into its field of @base (an MsConfig,
 * MsAccount or MsSmtpHost, as @key's group says); a relative path is
 * taken from @config_dir. FALSE with @why_out set when the value is not
 * acceptable. */
gboolean ms_config_set_value (gpointer base, const MsConfigKey *key, const char *value,
                              const char *config_dir, char **why_out);

/* Set every key of @group in @base to its default; a choice without a
 * default is -1 (not set). */
void ms_config_apply_defaults (gpointer base, const char *group);
