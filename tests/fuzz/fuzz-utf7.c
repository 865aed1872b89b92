/* Fuzz target for IMAP modified UTF-7 (message/utf7.c), both directions,
 * with the round trip checked. Not built by make; tests/fuzz/build.sh
 * builds it (see there for how to run it).
 *
 * Input: a string (cut at the first NUL), used both as a modified UTF-7
 * name from a server or the disk and, when it is valid UTF-8, as a
 * folder name from a script. The decoder refuses every second spelling
 * (utf7.c), so each name has exactly one encoding:
 *   decode(x) succeeds  =>  encode(decode(x)) == x
 *   x valid UTF-8       =>  decode(encode(x)) == x
 * A mismatch aborts. */
#include "utf7.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
mismatch (const char *what, const char *in, const char *got)
{
  fprintf (stderr, "utf7 round trip broken (%s): \"%s\" gave \"%s\"\n", what, in,
           got ? got : "(null)");
  abort ();
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *in = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  g_autofree char *decoded = ms_utf7_imap_decode (in, &error);

  if (decoded != NULL)
    {
      g_autofree char *again = ms_utf7_imap_encode (decoded);

      g_assert_no_error (error);
      g_assert_true (g_utf8_validate (decoded, -1, NULL));
      if (again == NULL || strcmp (again, in) != 0)
        mismatch ("encode(decode(x))", in, again);
    }
  else
    g_assert_nonnull (error);

  if (g_utf8_validate (in, -1, NULL))
    {
      g_autofree char *encoded = ms_utf7_imap_encode (in);
      g_autoptr (GError) e2 = NULL;
      g_autofree char *back = NULL;

      if (encoded == NULL)
        mismatch ("encode(valid UTF-8)", in, NULL);
      for (const char *p = encoded; *p; p++)
        if ((guchar) *p < 0x20 || (guchar) *p > 0x7e)
          mismatch ("encode gives printable ASCII", in, encoded);
      back = ms_utf7_imap_decode (encoded, &e2);
      if (back == NULL || strcmp (back, in) != 0)
        mismatch ("decode(encode(x))", in, back);
    }
  else
    {
      g_autofree char *encoded = ms_utf7_imap_encode (in);
      g_assert_null (encoded);
    }
  return 0;
}
