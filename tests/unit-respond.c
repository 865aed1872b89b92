/* Unit tests: the replies mailsift writes (agent/respond.c). */
#include "respond.h"

#include <string.h>

/* The last check before a vacation reply or a notification is built,
 * where the actions of both Sieve engines meet: nothing that would put
 * a line break (a header field of the sender's choosing) into it. */
static void
test_unsafe (void)
{
  g_autoptr (MsAction) ok = ms_action_new (MS_ACTION_VACATION, "alice@example.org");
  g_autoptr (MsAction) from = ms_action_new (MS_ACTION_VACATION, "alice@example.org");
  g_autoptr (MsAction) addresses = ms_action_new (MS_ACTION_VACATION, "alice@example.org");
  g_autoptr (MsAction) method = ms_action_new (MS_ACTION_NOTIFY, "mailto:b@example.org\nBcc: v@x");
  g_autoptr (MsAction) redirect = ms_action_new (MS_ACTION_REDIRECT, "b@example.org");
  g_autofree char *why = NULL;
  const char *const list[] = { "me@example.org", "me\r@example.org", NULL };

  ok->from = g_strdup ("Me <me@example.org>");
  ok->subject = g_strdup ("Away\tuntil Monday");
  ok->handle = g_strdup ("h1");
  ok->text = g_strdup ("line 1\nline 2\n"); /* the body may have lines */
  g_assert_null (ms_respond_unsafe (ok));
  g_assert_null (ms_respond_unsafe (redirect));

  from->from = g_strdup ("a\r\nBcc: v@x");
  why = ms_respond_unsafe (from);
  g_assert_cmpstr (why, ==, "its :from \"a\\r\\nBcc: v@x\" is refused: it contains a line break (CR or LF)");
  g_clear_pointer (&why, g_free);

  addresses->addresses = g_strdupv ((char **) list);
  why = ms_respond_unsafe (addresses);
  g_assert_nonnull (why);
  g_assert_true (g_str_has_prefix (why, "its :addresses \"me\\r@example.org\""));
  g_clear_pointer (&why, g_free);

  why = ms_respond_unsafe (method);
  g_assert_nonnull (why);
  g_assert_true (g_str_has_prefix (why, "its method \"mailto:b@example.org\\nBcc: v@x\""));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/respond/unsafe", test_unsafe);
  return g_test_run ();
}
