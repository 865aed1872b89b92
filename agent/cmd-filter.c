/* mailsift filter-worker: the hidden filter process (see filters/engine.h).
 * Started by the agent itself with pipes on stdin and stdout. */
#include "commands.h"
#include "error.h"

#include <stdio.h>
#include <unistd.h>

int
ms_cmd_filter_worker (int argc, char **argv)
{
  int cpu_seconds = 5;
  const GOptionEntry entries[] = {
    { "cpu-seconds", 0, 0, G_OPTION_ARG_INT, &cpu_seconds, "CPU seconds per message", "N" },
    G_OPTION_ENTRY_NULL
  };

  if (!ms_parse_options ("", "Internal: the Sieve filter process.", NULL, entries, &argc, &argv))
    return MS_EX_USAGE;
  if (isatty (STDIN_FILENO))
    {
      g_printerr ("mailsift filter-worker is started by mailsift itself, not by hand\n");
      return MS_EX_USAGE;
    }
  return ms_engine_serve (STDIN_FILENO, STDOUT_FILENO, MAX (cpu_seconds, 1)) == 0 ? MS_EX_OK
                                                                                 : MS_EX_SOFTWARE;
}
