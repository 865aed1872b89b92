/* mailsift - one entry point per subcommand (agent/cmd-*.c). Each parses
 * its own options and returns a sysexits(3) code. */
#pragma once

#include "config.h"
#include "engine.h"

#include <glib.h>

int ms_cmd_deliver (int argc, char **argv);
int ms_cmd_check (int argc, char **argv);
int ms_cmd_test (int argc, char **argv);
int ms_cmd_fetch (int argc, char **argv);
int ms_cmd_run (int argc, char **argv);
int ms_cmd_status (int argc, char **argv);
int ms_cmd_queue (int argc, char **argv);

/* The single-instance lock of `mailsift run` (<state_dir>/agent.pid),
 * held until the process exits. */
gboolean ms_agent_lock (const MsConfig *config, GError **error);
int ms_cmd_filter_worker (int argc, char **argv);

/* Options every subcommand takes: -c FILE, -v. */
extern char *ms_opt_config;
extern int ms_opt_verbose;      /* -v given this many times */
extern gboolean ms_opt_quiet;
extern const GOptionEntry ms_common_options[];

/* Parse @argc/@argv with @entries plus the common options; on a usage
 * error print it with a hint and return FALSE. */
gboolean ms_parse_options (const char *parameter_string, const char *summary,
                           const char *description, const GOptionEntry *entries, int *argc,
                           char ***argv);

/* A filter engine running this very binary. Transfer full. */
MsEngine *ms_engine_for_config (const MsConfig *config);
