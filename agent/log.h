/* mailsift - logging. One line per event, "mailsift[pid]: level: text",
 * on stderr (which journald, an MTA's bounce text and a terminal all
 * read well; with a timestamp in front unless stderr is the journal) or
 * to syslog (`log = syslog`). */
#pragma once

#include "config.h" /* MsLogLevel, MsLogTarget */

#include <glib.h>

/* How much is shown: quiet (warnings and errors only), notice, info
 * (-v), debug (-vv: with each command sent to a server and its answers,
 * passwords hidden). */
typedef enum {
  MS_LOG_QUIET = -1,
  MS_LOG_NOTICE = 0,
  MS_LOG_INFO = 1,
  MS_LOG_DEBUG = 2,
} MsLogDetail;

/* Install the GLib log writer with @detail. */
void ms_log_init (MsLogDetail detail);

/* Raise the detail to the config's log_level; never lowers what -v asked
 * for, and leaves -q alone. */
void ms_log_set_level (MsLogLevel level);

/* Whether messages of @detail are shown (e.g. whether to build a trace). */
gboolean ms_log_shows (MsLogDetail detail);

/* Where lines go: stderr (the default) or syslog (facility mail). */
void ms_log_set_target (MsLogTarget target);

/* The detail as -q/-v/-vv for a process this one starts: NULL for the
 * default. */
const char *ms_log_option (void);

/* The level in force: "notice", "info" or "debug". */
const char *ms_log_get_level (void);
