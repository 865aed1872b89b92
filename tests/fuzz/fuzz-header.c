/* Fuzz target for the header view (message/header.c) and the RFC 2047
 * decoder (message/rfc2047.c) on arbitrary bytes: NULs, 8-bit, huge
 * lines, broken encoded words, unknown charsets. Not built by make;
 * tests/fuzz/build.sh builds it (see there for how to run it).
 *
 * Input: the message (its header block is parsed as the agent does),
 * and the whole input again as one field value for ms_rfc2047_decode.
 * Besides the sanitizers, it checks what header.h promises: names and
 * values valid UTF-8, values without CR, LF or NUL, lookups agreeing with
 * the fields in order, the header size within the input. */
#include "address.h"
#include "header.h"
#include "rfc2047.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_text (const char *s, gboolean single_line)
{
  g_assert_nonnull (s);
  g_assert_true (g_utf8_validate (s, -1, NULL));
  if (single_line)
    g_assert_true (strpbrk (s, "\r\n") == NULL);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (MsHeaderView) view = ms_header_view_new ((const char *) data, size);
  guint n = ms_header_view_get_n_fields (view);
  gsize hsize = ms_header_view_get_header_size (view);
  static const char *const probes[] = { "From", "to", "SUBJECT", "Received", "x-nothing", "", NULL };

  g_assert_cmpuint (hsize, <=, size);
  g_assert_cmpuint (n, <=, MS_HEADER_MAX_FIELDS);
  (void) ms_header_view_has_separator (view);

  /* every field: name, raw and decoded value; and the lookups of its
   * name give its value at the right place among those of that name */
  for (guint i = 0; i < n; i++)
    {
      const char *name = ms_header_view_get_name (view, i);
      const char *value = ms_header_view_get_value (view, i);
      const char *const *all;
      guint k = 0, pos = 0;

      check_text (name, TRUE);
      check_text (value, TRUE);
      check_text (ms_header_view_get_raw (view, i), FALSE);
      all = ms_header_view_lookup (view, name);
      g_assert_nonnull (all);
      for (guint j = 0; j < i; j++)
        if (g_ascii_strcasecmp (ms_header_view_get_name (view, j), name) == 0)
          pos++;
      for (k = 0; all[k] != NULL; k++)
        ;
      g_assert_cmpuint (pos, <, k);
      g_assert_cmpstr (all[pos], ==, value);
      g_assert_cmpstr (ms_header_view_get_first (view, name), ==, all[0]);
      /* what the Sieve address test does with an address field */
      if (i < 64)
        {
          g_auto (GStrv) addrs = ms_address_list_parse (value);
          g_assert_nonnull (addrs);
        }
    }
  for (const char *const *p = probes; *p; p++)
    {
      const char *const *all = ms_header_view_lookup (view, *p);
      g_assert_true ((all == NULL) == (ms_header_view_get_first (view, *p) == NULL));
    }

  /* the decoder on the whole input as one value (a C string: up to the
   * first NUL, as field values reach it) */
  {
    g_autofree char *text = g_strndup ((const char *) data, MIN (size, 65536));
    g_autofree char *decoded = ms_rfc2047_decode (text);

    g_assert_nonnull (decoded);
    g_assert_true (g_utf8_validate (decoded, -1, NULL));
  }
  return 0;
}
