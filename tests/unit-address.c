/* Unit tests: address-list parsing, the wire-safety check and subaddress
 * splitting. */
#include "address.h"

#include <string.h>

/* Parse @value and compare the addr-specs, joined with '|', to @want. */
static void
check_list (const char *value, const char *want)
{
  g_auto (GStrv) addrs = ms_address_list_parse (value);
  g_autofree char *got = NULL;

  g_assert_nonnull (addrs);
  got = g_strjoinv ("|", addrs);
  if (g_strcmp0 (got, want) != 0)
    g_test_message ("parsing: %s", value);
  g_assert_cmpstr (got, ==, want);
}

static void
test_parse_simple (void)
{
  check_list ("", "");
  check_list ("   ", "");
  check_list ("a@b.org", "a@b.org");
  check_list ("<a@b.org>", "a@b.org");
  check_list ("a@b.org, c@d.org", "a@b.org|c@d.org");
  check_list ("Alice <a@b.org>, Bob <c@d.org>", "a@b.org|c@d.org");
  check_list (" , a@b.org ,, ", "a@b.org");
  /* the null reverse-path is kept, empty */
  check_list ("<>", "");
  {
    g_auto (GStrv) null_path = ms_address_list_parse ("<>");

    g_assert_cmpuint (g_strv_length (null_path), ==, 1);
  }
}

static void
test_parse_quoted (void)
{
  check_list ("\"Doe, John\" <jd@x.org>, a@b.org", "jd@x.org|a@b.org");
  check_list ("\"a <b@c> , d\" <e@f.org>", "e@f.org");
  check_list ("\"esc \\\" , <x@y>\" <e@f.org>, g@h.org", "e@f.org|g@h.org");
  check_list ("\"John Doe\"@x.org", "\"John Doe\"@x.org");
  check_list ("\"a@b\"@c.org", "\"a@b\"@c.org");
  check_list ("\"J\\xf6rg\" <j@x.org>", "j@x.org");
  /* an unterminated quote must not run off the end; no '@' outside it */
  check_list ("\"unterminated <a@b>", "\"unterminated <a@b>");
}

static void
test_parse_comments (void)
{
  check_list ("a@b.org (Alice)", "a@b.org");
  check_list ("(lead) a@b.org (trail), c@d.org", "a@b.org|c@d.org");
  check_list ("a@b.org (x (nested, <y@z>) x), c@d.org", "a@b.org|c@d.org");
  check_list ("Alice (a, b) <a@b.org>", "a@b.org");
  check_list ("a(c)@b.org", "a@b.org");
  check_list ("a@b.org (\\) still comment, <q@r>)", "a@b.org");
  check_list ("a@b.org (unterminated, c@d.org", "a@b.org");
}

static void
test_parse_groups (void)
{
  check_list ("Friends: a@b.org, Bob <c@d.org>;", "a@b.org|c@d.org");
  check_list ("Friends: a@b.org, c@d.org;, e@f.org", "a@b.org|c@d.org|e@f.org");
  check_list ("undisclosed-recipients:;", "");
  check_list ("A: a@b.org;, B: (none);, C: c@d.org", "a@b.org|c@d.org");
  check_list ("\"Group: odd\": x@y.org;", "x@y.org");
}

static void
test_parse_routes (void)
{
  check_list ("<@relay.org:a@b.org>", "a@b.org");
  check_list ("Alice <@r1.org,@r2.org:a@b.org>, c@d.org", "a@b.org|c@d.org");
}

static void
test_parse_tolerant (void)
{
  /* missing angle brackets: display-name words are not the address */
  check_list ("Jo Bloggs jo@x.org", "jo@x.org");
  /* obsolete white space around dots and '@' */
  check_list ("john . doe @ x . org", "john.doe@x.org");
  check_list ("a@[192.0.2.1]", "a@[192.0.2.1]");
  /* missing commas */
  check_list ("<a@b.org> <c@d.org>", "a@b.org|c@d.org");
  check_list ("a@b.org c@d.org", "a@b.org|c@d.org");
  /* no '@': kept as written */
  check_list ("postmaster", "postmaster");
  check_list ("Jo Bloggs", "Jo Bloggs");
  check_list ("<a@b.org", "a@b.org");
  check_list ("a@b.org>", "a@b.org");
  check_list ("Jörg <jörg@bücher.de>", "jörg@bücher.de");
  /* GMime 3.2.13's parser loses these addresses; we and Pigeonhole keep them */
  check_list ("a@b.org; c@d.org", "a@b.org|c@d.org");
  check_list ("a@b.org ; c@d.org", "a@b.org|c@d.org");
  check_list ("G: a@b.org;; c@d.org", "a@b.org|c@d.org");
  check_list ("a..b@c.org", "a..b@c.org");
  check_list ("a.@b.org", "a.@b.org");
  check_list (".a@b.org", ".a@b.org");
  check_list ("a@b.org (unterminated", "a@b.org");
  check_list (")a@b.org", "a@b.org");
  check_list ("j\xf6rg@x.org", "j\xf6rg@x.org");
  check_list ("<s@x.org> Mr. Smith", "s@x.org");
}

static void
check_invalid (const char *addr)
{
  const char *why = NULL;

  if (ms_address_is_valid (addr, &why))
    g_test_message ("accepted: %s", addr);
  g_assert_false (ms_address_is_valid (addr, &why));
  g_assert_nonnull (why);
  g_assert_cmpstr (why, !=, "");
  /* the reason is optional */
  g_assert_false (ms_address_is_valid (addr, NULL));
}

static void
check_valid (const char *addr)
{
  const char *why = NULL;
  gboolean ok = ms_address_is_valid (addr, &why);

  if (!ok)
    g_test_message ("%s refused: %s", addr, why);
  g_assert_true (ok);
}

static void
test_valid (void)
{
  g_autofree char *local64 = g_strnfill (64, 'l');
  g_autofree char *max = NULL;

  check_valid ("a@b");
  check_valid ("bob+work@x.org");
  check_valid ("first.last@sub.example.co.uk");
  check_valid ("\"odd,<user>\"@x.org");
  check_valid ("\"a@b\"@x.org");
  check_valid ("u@[192.0.2.1]");
  check_valid ("jörg@bücher.de");
  check_valid ("o'hara!x#y$z%&*=?^`{|}~@x.org");
  max = g_strdup_printf ("%s@x.org", local64);
  check_valid (max);
}

static void
test_invalid (void)
{
  g_autofree char *local65 = g_strnfill (65, 'l');
  g_autofree char *label = g_strnfill (60, 'd');
  g_autofree char *long_local = g_strdup_printf ("%s@x.org", local65);
  g_autofree char *long_total = g_strdup_printf ("a@%s.%s.%s.%s.%s.org", label, label, label, label, label);

  g_assert_cmpuint (strlen (long_total), >, 254);
  check_invalid ("a@b\r\nRCPT TO:<x@y>");
  check_invalid ("a@b\nx");
  check_invalid ("a@b\r");
  check_invalid ("a\tb@c");
  check_invalid ("a\x01@c");
  check_invalid ("a@b\x7f");
  check_invalid ("a b@c");
  check_invalid ("\"a b\"@c");
  check_invalid ("a@b c");
  check_invalid ("");
  check_invalid (NULL);
  check_invalid ("@b");
  check_invalid ("a@");
  check_invalid ("ab");
  check_invalid ("a@b@c");
  check_invalid ("<a@b>");
  check_invalid ("a,b@c");
  check_invalid ("a@b>");
  check_invalid ("a@b,c");
  check_invalid ("a@b;c");
  check_invalid ("a@.b");
  check_invalid ("a@b..c");
  check_invalid ("a@b.");
  check_invalid ("a@[1.2.3.4");
  check_invalid ("\"unclosed@x.org");
  check_invalid ("\"q\"x@y.org");
  check_invalid ("a@\xff.org");
  check_invalid (long_local);
  check_invalid (long_total);
}

/* Split and compare every part; NULL in @want_* means "expect NULL". */
static void
check_split (const char *addr, const char *seps, gboolean want_ret, const char *want_local,
             const char *want_domain, const char *want_user, const char *want_detail)
{
  g_autofree char *local = NULL, *domain = NULL, *user = NULL, *detail = NULL;
  gboolean ret = ms_address_split (addr, seps, &local, &domain, &user, &detail);

  g_assert_cmpint (ret, ==, want_ret);
  g_assert_cmpstr (local, ==, want_local);
  g_assert_cmpstr (domain, ==, want_domain);
  g_assert_cmpstr (user, ==, want_user);
  g_assert_cmpstr (detail, ==, want_detail);
}

static void
test_split (void)
{
  check_split ("bob+work@x.org", "+", TRUE, "bob+work", "x.org", "bob", "work");
  check_split ("bob+work@x.org", "-+", TRUE, "bob+work", "x.org", "bob", "work");
  check_split ("bob-home+work@x.org", "-+", TRUE, "bob-home+work", "x.org", "bob", "home+work");
  check_split ("bob+work@x.org", "", TRUE, "bob+work", "x.org", "bob+work", NULL);
  check_split ("bob+work@x.org", NULL, TRUE, "bob+work", "x.org", "bob+work", NULL);
  check_split ("bob@x.org", "+", TRUE, "bob", "x.org", "bob", NULL);
  check_split ("bob+@x.org", "+", TRUE, "bob+", "x.org", "bob", "");
  check_split ("+work@x.org", "+", TRUE, "+work", "x.org", "", "work");
  check_split ("\"a@b\"@x.org", "+", TRUE, "\"a@b\"", "x.org", "\"a@b\"", NULL);
  check_split ("postmaster", "+", FALSE, "postmaster", NULL, "postmaster", NULL);
  check_split ("", "+", FALSE, "", NULL, "", NULL);

  /* every out pointer may be NULL */
  g_assert_true (ms_address_split ("a+b@c", "+", NULL, NULL, NULL, NULL));
  {
    g_autofree char *detail = NULL;

    g_assert_true (ms_address_split ("a+b@c", "+", NULL, NULL, NULL, &detail));
    g_assert_cmpstr (detail, ==, "b");
  }
}

static void
test_equal (void)
{
  g_assert_true (ms_address_equal ("a@b.org", "a@b.org"));
  g_assert_true (ms_address_equal ("Bob@Example.ORG", "bob@example.org"));
  g_assert_true (ms_address_equal ("<bob@x.org>", " bob@x.org "));
  g_assert_true (ms_address_equal ("bob@x.org.", "bob@x.org"));
  g_assert_false (ms_address_equal ("bob@x.org", "bob@x.org.uk"));
  g_assert_false (ms_address_equal ("bob@x.org", "rob@x.org"));
  g_assert_false (ms_address_equal ("bob+a@x.org", "bob@x.org"));
  /* non-ASCII is compared exactly */
  g_assert_false (ms_address_equal ("JÖRG@x.org", "jörg@x.org"));
  g_assert_true (ms_address_equal ("jÖrg@X.org", "JÖRG@x.org"));
  g_assert_false (ms_address_equal ("", ""));
  g_assert_false (ms_address_equal (NULL, "a@b"));
  g_assert_false (ms_address_equal ("a@b", NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/address/parse/simple", test_parse_simple);
  g_test_add_func ("/address/parse/quoted", test_parse_quoted);
  g_test_add_func ("/address/parse/comments", test_parse_comments);
  g_test_add_func ("/address/parse/groups", test_parse_groups);
  g_test_add_func ("/address/parse/routes", test_parse_routes);
  g_test_add_func ("/address/parse/tolerant", test_parse_tolerant);
  g_test_add_func ("/address/valid", test_valid);
  g_test_add_func ("/address/invalid", test_invalid);
  g_test_add_func ("/address/split", test_split);
  g_test_add_func ("/address/equal", test_equal);
  return g_test_run ();
}
