/* mailsift check [SCRIPT...]: compile scripts with the configured engine
 * (in the filter process, since libsieve can crash on a bad script; for
 * libsieve also lint them); with no argument, check the configuration
 * file and its script. */
#include "commands.h"
#include "error.h"
#include "lint.h"

#include <stdio.h>
#include <string.h>

/* "FILE:LINE: text" -> "FILE:LINE: LABEL: text" (or "FILE: LABEL: text"). */
static void
print_labelled (const char *file, const char *line, const char *label)
{
  const char *rest = line;
  const char *p;

  if (g_str_has_prefix (rest, file) && rest[strlen (file)] == ':')
    rest += strlen (file) + 1;
  p = rest;
  while (g_ascii_isdigit (*p))
    p++;
  if (p > rest && *p == ':' && g_ascii_isdigit (p[1]))
    {
      /* mailsift's engine: "LINE:COL: error: text", already labelled */
      printf ("%s:%s\n", file, rest);
      return;
    }
  if (p > rest && *p == ':')
    printf ("%s:%.*s: %s:%s\n", file, (int) (p - rest), rest, label, p + 1);
  else
    printf ("%s: %s: %s\n", file, label, g_strchug ((char *) rest));
}

static gboolean
check_script (MsEngine *engine, const char *path, guint *n_warnings)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (MsFilterResult) result = NULL;
  MsFilterRequest req = { .mode = MS_FILTER_VALIDATE, .script_path = path };
  gboolean ok = TRUE;

  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      printf ("%s: error: %s\n", path, error->message);
      return FALSE;
    }
  if (ms_engine_get_backend (engine) == MS_SIEVE_LIBSIEVE)
    ms_lint_script (text, errors, warnings);
  for (guint i = 0; i < errors->len; i++, ok = FALSE)
    print_labelled (path, errors->pdata[i], "error");
  for (guint i = 0; i < warnings->len; i++)
    print_labelled (path, warnings->pdata[i], "warning");
  *n_warnings += warnings->len;

  /* A lint error means the script must not run (deliver keeps the
   * message instead), and some of them crash libsieve's parser: it is
   * not handed to libsieve either. Its own errors come once these are
   * fixed. */
  if (!ok)
    return FALSE;
  result = ms_engine_run (engine, &req);
  for (guint i = 0; i < result->errors->len; i++, ok = FALSE)
    print_labelled (path, result->errors->pdata[i], "error");
  for (guint i = 0; i < result->warnings->len; i++)
    print_labelled (path, result->warnings->pdata[i], "warning");
  *n_warnings += result->warnings->len;
  return ok;
}

int
ms_cmd_check (int argc, char **argv)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (MsConfig) config = NULL;
  g_autoptr (MsEngine) engine = NULL;
  g_autofree char *config_path = ms_opt_config ? NULL : ms_config_default_path ();
  gboolean ok = TRUE;
  guint n_warnings = 0;

  if (!ms_parse_options ("[SCRIPT...]", "Check Sieve scripts for errors, with the engine the "
                         "configuration names (sieve_engine). With no SCRIPT, check the configuration "
                         "file and the script it names.",
                         "Messages look like FILE:LINE:COLUMN: error: TEXT (FILE:LINE: with libsieve). Exit status: 0 no errors "
                         "(warnings allowed), 1 errors found, 64 usage.",
                         entries, &argc, &argv))
    return MS_EX_USAGE;

  if (argc > 1)
    {
      /* the scripts are checked with the engine -c names, else the default */
      if (ms_opt_config)
        {
          config = ms_config_load (ms_opt_config, problems, &error);
          for (guint i = 0; i < problems->len; i++)
            print_labelled (ms_opt_config, problems->pdata[i], "error");
          if (config == NULL)
            return 1;
        }
      else
        config = ms_config_new_default ();
      engine = ms_engine_for_config (config);
      for (int i = 1; i < argc; i++)
        {
          guint before = n_warnings;
          gboolean script_ok = check_script (engine, argv[i], &n_warnings);
          ok &= script_ok;
          if (script_ok)
            printf ("%s: ok%s\n", argv[i], n_warnings > before ? " (with warnings)" : "");
        }
      return ok ? MS_EX_OK : 1;
    }

  if (ms_opt_config == NULL && !g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      printf ("%s: no config file; mailsift uses its defaults (every message kept in ~/Maildir).\n"
              "See mailsift.conf(5) and the examples folder to write one.\n", config_path);
      return MS_EX_OK;
    }
  config = ms_config_load (ms_opt_config, problems, &error);
  for (guint i = 0; i < problems->len; i++)
    {
      const char *p = problems->pdata[i];
      const char *file = ms_opt_config ? ms_opt_config : config_path;
      print_labelled (file, p, "error");
    }
  if (config == NULL)
    return 1;
  printf ("%s: ok\n", config->path);
  if (config->script == NULL)
    {
      printf ("%s: no script configured; every message is kept in %s\n", config->path, config->maildir);
      return MS_EX_OK;
    }
  engine = ms_engine_for_config (config);
  if (check_script (engine, config->script, &n_warnings))
    printf ("%s: ok%s\n", config->script, n_warnings ? " (with warnings)" : "");
  else
    ok = FALSE;
  return ok ? MS_EX_OK : 1;
}
