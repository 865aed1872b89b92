/* mailsift - logging. One line per event on stderr, "mailsift[pid]: level: text",
 * which journald, an MTA's bounce text and a terminal all read well. */
#pragma once

#include <glib.h>

/* Install the GLib log writer. @verbose shows g_info/g_debug too. */
void ms_log_init (gboolean verbose);

/* Raise the detail to the config's log_level ("notice", "info", "debug");
 * never lowers what -v asked for. */
void ms_log_set_level (const char *level);

/* The level in force: "notice", "info" or "debug". */
const char *ms_log_get_level (void);
