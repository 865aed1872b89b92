/* Unit tests of the Sieve extensions that reach outside the engine:
 * editheader (RFC 5293) and duplicate (RFC 7352). Delivery of the
 * edited copies and the duplicate history are checked end to end by
 * tests/cases/editheader-*.case and duplicate-*.case. */
#include "sieve-interp.h"
#include "sieve-script.h"

#include <string.h>

static const char MESSAGE[] = "Received: from a by b; Mon, 23 Nov 2026 10:00:00 +0000\r\n"
                              "From: Alice <alice@example.org>\r\n"
                              "To: Me <me@example.org>\r\n"
                              "Subject: Hello\r\n"
                              "X-Spam: 7\r\n"
                              "X-Spam: 12\r\n"
                              "Message-ID: <one@example.org>\r\n"
                              "\r\n"
                              "body\r\n";

static MsFilterResult *
execute (const char *script, const char *const *options)
{
  g_autoptr (MsSvScript) s = ms_sv_script_compile (script, strlen (script), "t.sieve");
  g_autoptr (GBytes) header = g_bytes_new_static (MESSAGE, sizeof MESSAGE - 1);
  MsFilterRequest req = {
    .mode = MS_FILTER_EXECUTE,
    .script_path = "t.sieve",
    .header = header,
    .size = sizeof MESSAGE - 1,
    .envelope_from = "alice@example.org",
    .envelope_to = "me@example.org",
    .subaddress_separator = "+",
    .options = options,
  };
  MsFilterResult *r = ms_filter_result_new ();

  for (guint i = 0; i < s->errors->len; i++)
    g_test_message ("compile error: %s", (char *) s->errors->pdata[i]);
  g_assert_cmpuint (s->errors->len, ==, 0);
  for (guint i = 0; i < s->warnings->len; i++)
    g_ptr_array_add (r->warnings, g_strdup (s->warnings->pdata[i]));
  r->complete = TRUE;
  ms_sv_execute (s, &req, r);
  ms_filter_result_finish (r);
  return r;
}

/* What `mailsift test` prints, then the warnings and the failure. */
static char *
run (const char *script)
{
  g_autoptr (MsFilterResult) r = execute (script, NULL);
  g_auto (GStrv) lines = ms_filter_result_format (r);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i]; i++)
    g_string_append_printf (out, "%s\n", lines[i]);
  for (guint i = 0; i < r->warnings->len; i++)
    g_string_append_printf (out, "warning: %s\n", (char *) r->warnings->pdata[i]);
  if (r->failed)
    g_string_append_printf (out, "failed: %s\n", r->failure);
  return g_string_free (out, FALSE);
}

static void
assert_run (const char *script, const char *want)
{
  g_autofree char *got = run (script);

  g_assert_cmpstr (got, ==, want);
}

static void
assert_error (const char *script, const char *want)
{
  g_autoptr (MsSvScript) s = ms_sv_script_compile (script, strlen (script), "t.sieve");
  gboolean found = FALSE;

  for (guint i = 0; i < s->errors->len; i++)
    found |= strstr (s->errors->pdata[i], want) != NULL;
  if (!found)
    {
      for (guint i = 0; i < s->errors->len; i++)
        g_test_message ("error: %s", (char *) s->errors->pdata[i]);
      g_test_fail_printf ("no error containing \"%s\" for: %s", want, script);
    }
}

/* ---------------------------------------------------------------- editheader */

static void
test_later_tests_see_edits (void)
{
  /* RFC 5293 7's own example */
  assert_run ("require [\"editheader\", \"fileinto\"];\naddheader \"X-Hello\" \"World\";\n"
              "if header :contains \"X-Hello\" \"World\" { fileinto \"Greetings\"; }",
              "addheader \"X-Hello: World\"\nfileinto \"Greetings\"\n");
  assert_run ("require [\"editheader\", \"fileinto\"];\ndeleteheader \"x-spam\";\n"
              "if exists \"X-Spam\" { fileinto \"Spam\"; }",
              "deleteheader \"x-spam: 7\"\ndeleteheader \"x-spam: 12\"\nkeep\n");
  /* encoded on the way in, decoded for tests */
  assert_run ("require [\"editheader\", \"fileinto\"];\naddheader \"X-City\" \"K\xc3\xb6ln\";\n"
              "if header :is \"X-City\" \"K\xc3\xb6ln\" { fileinto \"Yes\"; }",
              "addheader \"X-City: K\xc3\xb6ln\"\nfileinto \"Yes\"\n");
  /* a replaced Subject, as people use it */
  assert_run ("require [\"editheader\", \"variables\", \"fileinto\"];\n"
              "if header :matches \"subject\" \"*\" { deleteheader \"Subject\"; addheader \"Subject\" \"[ext] ${1}\"; }\n"
              "if header :is \"subject\" \"[ext] Hello\" { fileinto \"Ext\"; }",
              "deleteheader \"Subject: Hello\"\naddheader \"Subject: [ext] Hello\"\nfileinto \"Ext\"\n");
}

static void
test_deleteheader_selects (void)
{
  assert_run ("require \"editheader\";\ndeleteheader :index 1 :last \"X-Spam\";", "deleteheader \"X-Spam: 12\"\nkeep\n");
  assert_run ("require \"editheader\";\ndeleteheader :index 1 \"X-Spam\";", "deleteheader \"X-Spam: 7\"\nkeep\n");
  assert_run ("require \"editheader\";\ndeleteheader :index 3 \"X-Spam\";", "keep\n");
  assert_run ("require \"editheader\";\ndeleteheader :matches \"X-Spam\" \"1*\";", "deleteheader \"X-Spam: 12\"\nkeep\n");
  assert_run ("require \"editheader\";\ndeleteheader :index 2 :is \"X-Spam\" \"7\";", "keep\n");
  assert_run ("require [\"editheader\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
              "deleteheader :value \"lt\" :comparator \"i;ascii-numeric\" \"X-Spam\" [\"3\", \"10\"];",
              "deleteheader \"X-Spam: 7\"\nkeep\n");
  assert_run ("require \"editheader\";\ndeleteheader \"X-None\";", "keep\n");
  assert_error ("require \"editheader\";\ndeleteheader :last \"X-Spam\";", "':last' needs ':index'");
  assert_error ("require \"editheader\";\ndeleteheader :index 0 \"X-Spam\";", "':index' counts from 1");
}

static void
test_actions_carry_edits_made_before (void)
{
  /* Pigeonhole's rule: an action delivers the message as it was when it
   * ran; the implicit keep gets every change */
  assert_run ("require [\"editheader\", \"fileinto\"];\nkeep;\naddheader \"X-A\" \"1\";\nfileinto \"F\";\n"
              "addheader :last \"X-B\" \"2\";\nredirect \"bob@example.net\";",
              "keep\naddheader \"X-A: 1\"\nfileinto \"F\"\naddheader :last \"X-B: 2\"\nredirect \"bob@example.net\"\n");
  assert_run ("require \"editheader\";\nkeep;\naddheader \"X-A\" \"1\";\nkeep;", "keep\n");
  {
    g_autoptr (MsFilterResult) r = execute ("require [\"editheader\", \"copy\"];\naddheader \"X-A\" \"1\";\n"
                                            "redirect :copy \"bob@example.net\";\naddheader \"X-B\" \"2\";",
                                            NULL);
    g_assert_cmpuint (r->edits->len, ==, 2);
    g_assert_cmpuint (((MsAction *) r->actions->pdata[0])->edits, ==, 1);
    g_assert_true (((MsAction *) r->actions->pdata[1])->implicit);
    g_assert_cmpuint (((MsAction *) r->actions->pdata[1])->edits, ==, 2);
  }
}

static void
test_protected_fields (void)
{
  assert_run ("require \"editheader\";\ndeleteheader \"received\";\naddheader \"Auto-Submitted\" \"no\";\n"
              "addheader \"X-Mailsift-Redirected\" \"me\";",
              "keep\n"
              "warning: 2:14: warning: deleteheader: received is protected: scripts cannot delete it, so this is ignored\n"
              "warning: 3:11: warning: addheader: Auto-Submitted is protected: scripts cannot add it, so this is ignored\n"
              "warning: 4:11: warning: addheader: X-Mailsift-Redirected is protected: scripts cannot add it, so this is "
              "ignored\n"
              "warning: 2:1: deleteheader: received is protected; ignored\n"
              "warning: 3:1: addheader: Auto-Submitted is protected; ignored\n"
              "warning: 4:1: addheader: X-Mailsift-Redirected is protected; ignored\n");
  /* a name from a variable is checked when it runs */
  assert_run ("require [\"editheader\", \"variables\"];\nset \"h\" \"Received\";\ndeleteheader \"${h}\";",
              "keep\nwarning: 3:1: deleteheader: Received is protected; ignored\n");
}

static void
test_bad_names_and_values (void)
{
  assert_error ("require \"editheader\";\naddheader \"X Foo\" \"bar\";",
                "2:11: error: addheader: \"X Foo\" is not a valid header field name");
  assert_error ("require \"editheader\";\ndeleteheader \"X:Foo\";", "not a valid header field name");
  assert_error ("require [\"editheader\", \"encoded-character\"];\naddheader \"X-A\" \"a${hex:00}b\";",
                "the value cannot be a header value: it contains a NUL character");
  assert_error ("addheader \"X-A\" \"b\";", "needs require \"editheader\"");
  /* found only at run time: an error, and the message is kept as it came */
  assert_run ("require [\"editheader\", \"variables\"];\naddheader \"X-A\" \"1\";\nset \"h\" \"X\nBcc\";\n"
              "addheader \"${h}\" \"x\";",
              "keep\nfailed: 5:1: runtime error: addheader: \"X\\nBcc\" is not a valid header field name\n");
  /* line breaks cannot forge a field */
  assert_run ("require [\"editheader\", \"variables\", \"fileinto\"];\nset \"v\" \"a\r\nBcc: x@example.org\";\n"
              "addheader \"X-A\" \"${v}\";\nif exists \"Bcc\" { fileinto \"Forged\"; }",
              "addheader \"X-A: a Bcc: x@example.org\"\nkeep\n");
}

/* ---------------------------------------------------------------- duplicate */

/* A fake history: hash -> "FIRST LAST" (seconds before now). */
static GHashTable *history;
static gboolean history_broken;

static gboolean
fake_lookup (const char *state_dir, const char *hash, gboolean *found_out, gint64 *first_out, gint64 *last_out,
             GError **error)
{
  const char *entry = history ? g_hash_table_lookup (history, hash) : NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_cmpstr (state_dir, ==, "/state");
  if (history_broken)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "disk on fire");
      return FALSE;
    }
  *found_out = entry != NULL;
  if (entry)
    {
      *first_out = now - g_ascii_strtoll (entry, NULL, 10);
      *last_out = now - g_ascii_strtoll (strchr (entry, ' ') + 1, NULL, 10);
    }
  return TRUE;
}

static char *
sha256 (const char *text, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) text, len);
}
#define SHA256(literal) sha256 (literal, sizeof literal - 1)

/* "seen"/"new" for each hash the run marked, then the actions. */
static char *
run_dup (const char *script, const char *const *more_options)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) options = NULL;
  g_autoptr (MsFilterResult) r = NULL;
  g_auto (GStrv) lines = NULL;
  GString *out = g_string_new (NULL);

  g_strv_builder_add (b, "state_dir=/state");
  if (more_options)
    g_strv_builder_addv (b, (const char **) more_options);
  options = g_strv_builder_end (b);
  r = execute (script, (const char *const *) options);
  for (guint i = 0; i < r->duplicates->len; i++)
    {
      const MsDuplicateMark *m = r->duplicates->pdata[i];
      g_string_append_printf (out, "%s %.8s\n", m->seen ? "seen" : "new", m->hash);
    }
  lines = ms_filter_result_format (r);
  for (guint i = 0; lines[i]; i++)
    g_string_append_printf (out, "%s\n", lines[i]);
  for (guint i = 0; i < r->warnings->len; i++)
    g_string_append_printf (out, "warning: %s\n", (char *) r->warnings->pdata[i]);
  return g_string_free (out, FALSE);
}

static void
assert_dup (const char *script, const char *const *options, const char *want)
{
  g_autofree char *got = run_dup (script, options);

  g_assert_cmpstr (got, ==, want);
}

#define IF_DUP(args) "require [\"duplicate\", \"fileinto\", \"variables\"];\nif duplicate " args \
                     " { fileinto \"Dup\"; }"

static void
test_duplicate (void)
{
  /* the default ID: the Message-ID as tests see it; no handle */
  g_autofree char *msgid = SHA256 ("\0<one@example.org>");
  g_autofree char *handled = SHA256 ("Hlists\0<one@example.org>");
  g_autofree char *empty_handle = SHA256 ("H\0<one@example.org>");
  g_autofree char *subject = SHA256 ("\0Hello");
  g_autofree char *want = NULL;
  const char *pending_new[] = { NULL, NULL };
  g_autofree char *pending_opt = NULL;

  ms_engine_set_duplicate_lookup (fake_lookup);
  history = g_hash_table_new (g_str_hash, g_str_equal);

  /* never seen: false, and marked new */
  want = g_strdup_printf ("new %.8s\nkeep\n", msgid);
  assert_dup (IF_DUP (""), NULL, want);

  /* seen an hour ago: true with the default 7 days */
  g_hash_table_insert (history, msgid, (char *) "3600 3600");
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("seen %.8s\nfileinto \"Dup\"\n", msgid);
  assert_dup (IF_DUP (""), NULL, want);
  /* :uniqueid of the same value is the same entry (RFC 7352 3) */
  assert_dup (IF_DUP (":uniqueid \"<one@example.org>\""), NULL, want);
  assert_dup (IF_DUP (":header \"message-id\""), NULL, want);

  /* first recorded 10 days ago, last tested an hour ago: only :last sees it */
  g_hash_table_insert (history, msgid, (char *) "864000 3600");
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("new %.8s\nkeep\n", msgid);
  assert_dup (IF_DUP (""), NULL, want);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("seen %.8s\nfileinto \"Dup\"\n", msgid);
  assert_dup (IF_DUP (":last"), NULL, want);
  /* :seconds narrows the period, and is capped at 30 days */
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("new %.8s\nkeep\n", msgid);
  assert_dup (IF_DUP (":last :seconds 60"), NULL, want);
  g_hash_table_insert (history, msgid, (char *) "3456000 3456000");
  assert_dup (IF_DUP (":seconds 100000000"), NULL, want);
  /* :seconds 0: false, and nothing to record */
  assert_dup (IF_DUP (":seconds 0"), NULL, "keep\n");

  /* tests in one run all see the history as it was; one that did not
   * see it makes tracking start anew */
  g_hash_table_insert (history, msgid, (char *) "7200 7200");
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("new %.8s\nfileinto \"A\"\n", msgid);
  assert_dup ("require [\"duplicate\", \"fileinto\"];\nif duplicate { fileinto \"A\"; }\n"
              "if duplicate :seconds 60 { fileinto \"B\"; }",
              NULL, want);

  /* :handle keeps unrelated tests apart; an empty handle is a handle */
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("new %.8s\nnew %.8s\nkeep\n", handled, empty_handle);
  assert_dup ("require \"duplicate\";\nif anyof (duplicate :handle \"lists\", duplicate :handle \"\") { discard; }",
              NULL, want);

  /* another field; a missing one or an invalid name: false, nothing
   * recorded, no error */
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("new %.8s\nkeep\n", subject);
  assert_dup (IF_DUP (":header \"Subject\""), NULL, want);
  assert_dup (IF_DUP (":header \"X-None\""), NULL, "keep\n");
  assert_dup (IF_DUP (":header \"Not valid\""), NULL, "keep\n");
  assert_error ("require \"duplicate\";\nif duplicate :header \"a\" :uniqueid \"b\" { discard; }",
                "':header' and ':uniqueid' cannot be used together");

  /* the header as edited so far */
  {
    g_autofree char *one = SHA256 ("\0" "1");
    g_clear_pointer (&want, g_free);
    want = g_strdup_printf ("new %.8s\naddheader \"X-Id: 1\"\nkeep\n", one);
    assert_dup ("require [\"duplicate\", \"editheader\"];\naddheader \"X-Id\" \"1\";\n"
                "if duplicate :header \"X-Id\" { discard; }",
                NULL, want);
  }

  /* an earlier message of the same batch, not committed yet */
  g_hash_table_remove_all (history);
  pending_opt = g_strdup_printf ("duplicate.pending=%s 0", msgid);
  pending_new[0] = pending_opt;
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("seen %.8s\nfileinto \"Dup\"\n", msgid);
  assert_dup (IF_DUP (""), pending_new, want);

  /* an unreadable history: not seen (never a false duplicate) */
  history_broken = TRUE;
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("new %.8s\nkeep\nwarning: 2:4: duplicate: the history cannot be read (disk on fire); "
                          "taken as not seen\n", msgid);
  assert_dup (IF_DUP (""), NULL, want);
  history_broken = FALSE;

  /* no history at all (no reader, or no state_dir) */
  ms_engine_set_duplicate_lookup (NULL);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("new %.8s\nkeep\n", msgid);
  assert_dup (IF_DUP (""), NULL, want);
  g_clear_pointer (&history, g_hash_table_unref);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/editheader/later-tests-see-edits", test_later_tests_see_edits);
  g_test_add_func ("/editheader/deleteheader-selects", test_deleteheader_selects);
  g_test_add_func ("/editheader/actions-carry-edits-made-before", test_actions_carry_edits_made_before);
  g_test_add_func ("/editheader/protected-fields", test_protected_fields);
  g_test_add_func ("/editheader/bad-names-and-values", test_bad_names_and_values);
  g_test_add_func ("/duplicate/history", test_duplicate);
  return g_test_run ();
}
