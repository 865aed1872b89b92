/* Deterministic crash points, for tests only.
 *
 * MAILSIFT_CRASH_AT=NAME:N makes the process _exit (MS_CRASH_EXIT) the
 * Nth time (1-based) it passes the durability step NAME, as if the
 * machine had lost power right there: no cleanup, no atexit, nothing
 * flushed that was not already written. The names are listed in
 * crash.c and in the README ("Crash points").
 *
 * MAILSIFT_CRASH_TRACE=FILE appends the name of every step passed to
 * FILE, a line each: a test learns from one run which steps it reaches,
 * and how often. Both unset, a crash point costs one predictable branch. */
#ifndef MS_CRASH_H
#define MS_CRASH_H

#include <glib.h>

#define MS_CRASH_EXIT 86

/* Whether MAILSIFT_CRASH_AT or MAILSIFT_CRASH_TRACE is set. */
extern gboolean ms_crash_on;

/* Whether MAILSIFT_CRASH_AT armed a step. */
gboolean ms_crash_armed (void);

/* Read MAILSIFT_CRASH_AT and MAILSIFT_CRASH_TRACE once. FALSE with
 * @error when the first is malformed or names no known step, or the
 * trace file cannot be opened. */
gboolean ms_crash_init (GError **error);

/* The names of all steps, NULL-terminated. */
const char *const *ms_crash_steps (void);

void ms_crash_pass (const char *name);

#define ms_crash_point(name)                                                                       \
  do                                                                                               \
    {                                                                                              \
      if (G_UNLIKELY (ms_crash_on))                                                                \
        ms_crash_pass (name);                                                                      \
    }                                                                                              \
  while (0)

#endif
