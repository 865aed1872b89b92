/* sieve-bench - the cost of mailsift's Sieve engine per message, without
 * the filter process or any I/O: compile SCRIPT once, then run it on the
 * header of every message in DIR, ROUNDS times, and print the time per
 * message. Built and run by `make bench` (bench/sieve-bench.py), which
 * prints Pigeonhole's sieve-filter on the same script and messages
 * beside it.
 *
 *   bench/sieve-bench SCRIPT DIR [ROUNDS] */
#include "action.h"
#include "engine.h"
#include "header.h"
#include "sieve-interp.h"
#include "sieve-script.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) headers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GDir) dir = NULL;
  g_autoptr (MsSvScript) script = NULL;
  const char *name;
  gsize len;
  int rounds = argc > 3 ? atoi (argv[3]) : 5;
  gint64 t0, t1;
  double best = -1;
  GHashTable *outcomes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (argc < 3)
    {
      fprintf (stderr, "usage: sieve-bench SCRIPT DIR [ROUNDS]\n");
      return 64;
    }
  if (!g_file_get_contents (argv[1], &text, &len, &error) || (dir = g_dir_open (argv[2], 0, &error)) == NULL)
    {
      fprintf (stderr, "sieve-bench: %s\n", error->message);
      return 66;
    }
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (argv[2], name, NULL);
      g_autofree char *msg = NULL;
      gsize mlen;
      if (!g_file_get_contents (path, &msg, &mlen, NULL))
        continue;
      {
        g_autoptr (MsHeaderView) view = ms_header_view_new (msg, mlen);
        g_ptr_array_add (headers, g_bytes_new (msg, ms_header_view_get_header_size (view)));
      }
    }
  t0 = g_get_monotonic_time ();
  script = ms_sv_script_compile (text, len, argv[1]);
  t1 = g_get_monotonic_time ();
  if (script->errors->len)
    {
      fprintf (stderr, "sieve-bench: %s\n", (char *) script->errors->pdata[0]);
      return 65;
    }
  printf ("compile %.1f us\n", (double) (t1 - t0));
  for (int r = 0; r < rounds; r++)
    {
      t0 = g_get_monotonic_time ();
      for (guint i = 0; i < headers->len; i++)
        {
          g_autoptr (MsFilterResult) result = ms_filter_result_new ();
          MsFilterRequest req = {
            .mode = MS_FILTER_EXECUTE,
            .script_path = argv[1],
            .header = headers->pdata[i],
            .size = g_bytes_get_size (headers->pdata[i]),
            .envelope_from = "sender@example.net",
            .envelope_to = "me@example.org",
            .subaddress_separator = "+",
          };
          result->complete = TRUE;
          ms_sv_execute (script, &req, result);
          ms_filter_result_finish (result);
          if (r == 0 && result->actions->len)
            {
              g_autofree char *line = ms_action_format (result->actions->pdata[0]);
              g_hash_table_replace (outcomes, g_steal_pointer (&line), NULL);
            }
        }
      t1 = g_get_monotonic_time ();
      {
        double per = (double) (t1 - t0) / headers->len;
        if (best < 0 || per < best)
          best = per;
      }
    }
  printf ("messages %u, rounds %d, distinct first actions %u\n", headers->len, rounds,
          g_hash_table_size (outcomes));
  printf ("engine %.2f us/message (best round)\n", best);
  g_hash_table_unref (outcomes);
  return 0;
}
