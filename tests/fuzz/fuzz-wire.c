/* Fuzz target for the filter pipe's result format (filters/wire.c,
 * ms_filter_result_decode in filters/action.c): what the agent reads
 * from the filter process, which has filtered hostile mail. Built by
 * tests/fuzz/build.sh; standalone replay with -DFUZZ_STANDALONE as the
 * other targets.
 *
 * Besides the sanitizers' checks: whatever decodes must encode again
 * into bytes that decode, and encode to the same bytes a second time
 * (the format has one way to write each result). */
#include "action.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (MsFilterResult) r = ms_filter_result_decode (data, size);
  g_autoptr (GByteArray) once = NULL, twice = NULL;
  g_autoptr (MsFilterResult) back = NULL;

  if (r == NULL)
    return 0;
  once = g_byte_array_new ();
  ms_filter_result_encode (r, once);
  back = ms_filter_result_decode (once->data, once->len);
  g_assert_nonnull (back);
  twice = g_byte_array_new ();
  ms_filter_result_encode (back, twice);
  g_assert_cmpuint (once->len, ==, twice->len);
  g_assert_true (memcmp (once->data, twice->data, once->len) == 0);
  return 0;
}

#ifdef FUZZ_STANDALONE
int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *contents = NULL;
      gsize len = 0;
      g_autoptr (GError) error = NULL;

      if (!g_file_get_contents (argv[i], &contents, &len, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      LLVMFuzzerTestOneInput ((const guint8 *) contents, len);
      printf ("%s: ok\n", argv[i]);
    }
  return 0;
}
#endif
