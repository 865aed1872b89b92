/* Unit tests: the IMAP and POP3 sources (agent/source-imap.c,
 * agent/source-pop3.c) against a scripted server in a thread, the one
 * the fuzz targets use (tests/fuzz/fuzz-fetch.h): answers that crashed
 * or leaked before. Leaks show under `make check-valgrind` and in an
 * ASan build. */
#include "fuzz/fuzz-fetch.h"

#define SEP "\0\0"
#define IMAP_ACCOUNT "protocol = imap\nfolders = INBOX\nafter_delivery = delete\nmax_message_size = 64\n"
#define POP3_ACCOUNT "protocol = pop3\nafter_delivery = delete\nmax_message_size = 64\n"

static gboolean
fetch (const char *account, const char *script, gsize len, MsFetchStats *stats, GError **error)
{
  fake_init (account);
  return fake_fetch ((const guint8 *) script, len, stats, error);
}

/* A tagged OK to CAPABILITY without the untagged CAPABILITY response
 * made libetpan 1.9.4 dereference NULL (found by fuzz-imap). */
static void
test_imap_capability_without_list (void)
{
  static const char script[] =
    "* OK hi\r\n" SEP
    "1 OK [CAPAABILITY IMAP4rev1] in\r\n" SEP
    "* 1 EXISTS\r\n2 OK done\r\n" SEP
    "* 1 EXISTS\r\n* OK [UIDVALIDITY 9] x\r\n3 OK done\r\n" SEP
    "* 1 FETCH (UID 1 RFC822.SIZE 9)\r\n4 OK done\r\n" SEP
    "* 1 FETCH (UID 1 BODY[] {9}\r\nSubject: )\r\n5 OK done\r\n" SEP
    "6 OK stored\r\n" SEP "7 OK expunged\r\n" SEP "* BYE\r\n8 OK bye\r\n";
  g_autoptr (GError) error = NULL;
  MsFetchStats stats;

  g_assert_true (fetch (IMAP_ACCOUNT, script, sizeof script - 1, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.messages, ==, 1);
}

/* ... and the first crashing input as the fuzzer found it */
static void
test_imap_capability_fuzz_input (void)
{
  static const char script[] =
    "* OK hi\r\n" SEP "1 OK [CAPAABILITY IMAP4rev1] in\r\n" SEP
    "* 1 EXISTS\r\n* OK [UIDVALIDITY 9] x\r\n2 OK done\r\n" SEP
    "* 1 FETCH (UID 1 RFC822.SIZE 3)\r\n3 OK done\r\n" SEP
    "* 1 FETCH (BODY[] {8}\r\nabc\r\ndef UID 1)\r\n4 OK done\r\n";
  g_autoptr (GError) error = NULL;
  MsFetchStats stats;

  /* (its answers are out of step after that: nothing is delivered) */
  g_assert_true (fetch (IMAP_ACCOUNT, script, sizeof script - 1, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.messages, ==, 0);
}

/* An untagged CAPABILITY that lists nothing, answering the CAPABILITY
 * asked for after login: libetpan 1.9.4's mailimap_capability()
 * dereferenced NULL (found by fuzz-imap). The line is refused first. */
static void
test_imap_capability_empty (void)
{
  static const char script[] =
    "* OK hi\r\n" SEP "1 OK logged in\r\n" SEP "* CAPABILITY \r\n2 OK done\r\n";
  g_autoptr (GError) error = NULL;

  g_assert_false (fetch (IMAP_ACCOUNT, script, sizeof script - 1, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "CAPABILITY response that lists nothing"));
}

/* "* OK [CAPABILITY] next" in a SELECT answer left libetpan with a
 * capability record without a list, and mailimap_has_extension() read
 * NULL (found by fuzz-imap; the input as it found it). */
static void
test_imap_capability_code_empty (void)
{
  static const char script[] =
    "* OK [CAPABILITY IMAP4rev1] fake ready\r\n" SEP
    "1 OK [CAPALYIBIT IMAP4rev1] LOGIN completed\r\n" SEP
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1234] UIDs valid\r\n* OK [CAPABILITY] next\r\n2 OK [READ-WRITE] SELECT completed\r\n" SEP
    "* 1\031FETCH (UID 10 RFC822.SIZE 172)\r\n* 2 FETCH (UID 11 RFC822.SIZE 48)\r\n* 3 FETCH (UID 12 RFC822.SIZE 70000)\r\n3 OK FETCH completed\r\n" SEP
    "* 1 FETCH (UID 10 BODY[] {172}\r\nFrom: Alice <alice@example.org>\r\nTo: me@example.org\r\nSubject: =?UTF-8?B?aMOpbGxv?=\r\nMessage-ID: <1@example.org>\r\nDate: Sat, 5 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n.dot line\r\n)\r\n* 2 FETCH (UID 11 BODY[] {48}\r\nFrom: bob@example.org\r\nSubj\013ct: second\r\n\r\nbody\r\n)\r\n4 OK FETCH completed\r\n" SEP
    "* 1 FETCH (FLAGS (\\Deleted))\r\n* 2 FETCH (FLAGS (\\Deleted))\r\n5 OK STORE completed\r\n" SEP
    "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n6 OK EXPUNGE completed\r\n" SEP
    "* 1 FETCH (UID 12 BODY[HEADER] {62}\r\nFrom: big@example.org\r\nSubject: large\r)\r\n7 OKFE TCH completed\r\n" SEP
    "* BYE logging out\r\n8 OK LOGOUT completed\r\n";
  g_autoptr (GError) error = NULL;
  MsFetchStats stats;

  /* whatever the outcome, the fetch ends without a crash */
  if (!fetch (IMAP_ACCOUNT, script, sizeof script - 1, &stats, &error))
    g_assert_nonnull (error);
}

/* "{99999999999}" inside a line (here in an answer to LOGOUT): libetpan
 * 1.9.4 allocates that much for a literal before it looks for the line
 * end (fuzz-imap: 2 GiB). The stream refuses the number first. */
static void
test_imap_literal_mid_line (void)
{
  static const char script[] =
    "* OK hi\r\n" SEP "1 OK logged in\r\n" SEP "* CAPABILITY IMAP4rev1\r\n2 OK done\r\n" SEP
    "* 1 FETCH (UID 1 BODY[] {99999999999}* OK x\r\n3 OK done\r\n";
  g_autoptr (GError) error = NULL;

  g_assert_false (fetch (IMAP_ACCOUNT, script, sizeof script - 1, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "literal size"));
}

/* A BYE greeting that comes in pieces, "* BYE" first (found by
 * fuzz-imap): libetpan's mailimap_connect() leaked it; it is refused
 * before, as a whole one is. */
static void
test_imap_bye_greeting_in_pieces (void)
{
  static const char script[] = "* BYE" SEP SEP SEP "\0 go away\r\n";
  g_autoptr (GError) error = NULL;

  g_assert_false (fetch (IMAP_ACCOUNT, script, sizeof script - 1, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "BYE"));
}

/* A BYE greeting: refused with a clear message (libetpan's
 * mailimap_connect leaked the greeting). */
static void
test_imap_bye_greeting (void)
{
  static const char script[] = "* BYE too many connections\r\n";
  g_autoptr (GError) error = NULL;

  g_assert_false (fetch (IMAP_ACCOUNT, script, sizeof script - 1, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "BYE"));
}

/* A session that fails after a greeting with an APOP timestamp: the
 * timestamp was leaked (found by fuzz-pop3), as after a good session
 * (test_pop3_session). */
static void
test_pop3_failed_session_timestamp (void)
{
  static const char script[] =
    "+OK ready <1896.697170952@fake>\r\n" SEP "+OK\r\n" SEP "-ERR [AUTH] bad password\r\n";
  g_autoptr (GError) error = NULL;

  g_assert_false (fetch (POP3_ACCOUNT, script, sizeof script - 1, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_ACCOUNT);
}

static void
test_pop3_session (void)
{
  static const char script[] =
    "+OK ready <1@fake>\r\n" SEP "+OK\r\n" SEP "+OK\r\n" SEP "+OK 1 20\r\n" SEP
    "+OK\r\n1 A1\r\n.\r\n" SEP "+OK\r\n1 20\r\n.\r\n" SEP "+OK\r\nUIDL\r\n.\r\n" SEP
    "+OK\r\nSubject: x\r\n\r\n..dot\r\n.\r\n" SEP "+OK deleted\r\n" SEP "+OK bye\r\n";
  g_autoptr (GError) error = NULL;
  MsFetchStats stats;

  g_assert_true (fetch (POP3_ACCOUNT, script, sizeof script - 1, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.messages, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/source/imap/capability-without-list", test_imap_capability_without_list);
  g_test_add_func ("/source/imap/capability-fuzz-input", test_imap_capability_fuzz_input);
  g_test_add_func ("/source/imap/capability-empty", test_imap_capability_empty);
  g_test_add_func ("/source/imap/capability-code-empty", test_imap_capability_code_empty);
  g_test_add_func ("/source/imap/literal-mid-line", test_imap_literal_mid_line);
  g_test_add_func ("/source/imap/bye-greeting", test_imap_bye_greeting);
  g_test_add_func ("/source/imap/bye-greeting-in-pieces", test_imap_bye_greeting_in_pieces);
  g_test_add_func ("/source/pop3/failed-session-timestamp", test_pop3_failed_session_timestamp);
  g_test_add_func ("/source/pop3/session", test_pop3_session);
  return g_test_run ();
}
