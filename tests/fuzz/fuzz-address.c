/* Fuzz target for the address parser (message/address.c): every entry
 * point on arbitrary text. Not built by make; tests/fuzz/build.sh builds
 * it (see there for how to run it).
 *
 * Input: an address-list header value. Byte 0 also picks the subaddress
 * separators. Checked: the parser never fails, each addr-spec it returns
 * can be split, compares equal to itself, and ms_address_is_valid gives a
 * reason exactly when it says no; a valid address has no CR, LF or
 * space outside quotes and one '@' at least. The skip helpers stay
 * within the string. */
#include "address.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_one (const char *addr, const char *seps, const char *other)
{
  const char *why = NULL;
  gboolean valid = ms_address_is_valid (addr, &why);
  g_autofree char *local = NULL, *domain = NULL, *user = NULL, *detail = NULL;
  gboolean has_at = ms_address_split (addr, seps, &local, &domain, &user, &detail);

  g_assert_true (valid == (why == NULL));
  g_assert_true (ms_address_is_valid (addr, NULL) == valid);
  g_assert_nonnull (local);
  g_assert_nonnull (user);
  g_assert_true (has_at == (domain != NULL));
  if (valid)
    {
      g_assert_true (has_at);
      g_assert_true (strpbrk (addr, "\r\n") == NULL);
      g_assert_cmpuint (strlen (addr), <=, 254);
      g_assert_true (ms_address_equal (addr, addr));
    }
  if (detail != NULL)
    g_assert_cmpuint (strlen (user) + strlen (detail), <, strlen (local) + 1);
  (void) ms_address_split (addr, seps, NULL, NULL, NULL, NULL);
  g_assert_true (ms_address_equal (addr, other) == ms_address_equal (other, addr));
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const char *const separators[] = { "+", "+-", "", "-_.=" };
  g_autofree char *value = g_strndup ((const char *) data, MIN (size, 65536));
  const char *seps = size > 0 ? separators[data[0] & 3] : "+";
  g_auto (GStrv) list = ms_address_list_parse (value);
  gsize len = strlen (value);
  const char *first = list[0] != NULL ? list[0] : "";

  g_assert_nonnull (list);
  for (guint i = 0; list[i] != NULL; i++)
    check_one (list[i], seps, first);
  /* the whole value as one address too */
  check_one (value, seps, first);

  /* the helpers the header view shares, from every quote and comment */
  for (gsize i = 0; i < len; i++)
    {
      const char *end = NULL;

      if (value[i] == '"')
        end = ms_address_skip_quoted (value + i, '"');
      else if (value[i] == '[')
        end = ms_address_skip_quoted (value + i, ']');
      else if (value[i] == '(')
        end = ms_address_skip_comment (value + i);
      if (end != NULL)
        g_assert_true (end > value + i && end <= value + len);
    }
  return 0;
}
