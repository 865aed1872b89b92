/* Unit tests: action post-processing (what libsieve leaves to us), the
 * wire format, the engine's crash/timeout handling, and the lint. */
#include "action.h"
#include "config.h"
#include "engine.h"
#include "lint.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

static MsFilterResult *
result_with (MsActionKind first, ...)
{
  MsFilterResult *r = ms_filter_result_new ();
  va_list ap;

  va_start (ap, first);
  for (int kind = first; kind >= 0; kind = va_arg (ap, int))
    {
      const char *target = va_arg (ap, const char *);
      g_ptr_array_add (r->actions, ms_action_new (kind, target));
    }
  va_end (ap);
  return r;
}

static char *
lines (MsFilterResult *r)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < r->actions->len; i++)
    {
      g_autofree char *l = ms_action_format (r->actions->pdata[i]);
      g_string_append_printf (s, "%s%s", s->len ? "|" : "", l);
    }
  return g_string_free (s, FALSE);
}

static void
check (MsFilterResult *r, const char *want)
{
  g_autofree char *got = NULL;

  ms_filter_result_finish (r);
  got = lines (r);
  g_assert_cmpstr (got, ==, want);
  ms_filter_result_free (r);
}

static void
test_implicit_keep (void)
{
  check (result_with (-1), "keep");
  check (result_with (MS_ACTION_VACATION, "a@b.org", -1), "vacation to=\"a@b.org\" subject=\"\" days=0|keep");
  check (result_with (MS_ACTION_FILEINTO, "A", -1), "fileinto \"A\"");
  check (result_with (MS_ACTION_DISCARD, NULL, -1), "discard");
  check (result_with (MS_ACTION_DISCARD, NULL, MS_ACTION_KEEP, NULL, -1), "keep");
  check (result_with (MS_ACTION_REDIRECT, "x@y.org", -1), "redirect \"x@y.org\"");
}

static void
test_dedupe_and_unescape (void)
{
  check (result_with (MS_ACTION_FILEINTO, "A", MS_ACTION_FILEINTO, "A", MS_ACTION_KEEP, NULL,
                      MS_ACTION_FILEINTO, "INBOX", -1),
         "fileinto \"A\"|keep");
  check (result_with (MS_ACTION_REDIRECT, "Bob@Example.org", MS_ACTION_REDIRECT, "Bob@EXAMPLE.ORG", -1),
         "redirect \"Bob@Example.org\"");
  check (result_with (MS_ACTION_FILEINTO, "a\\\\b\\\"c", -1), "fileinto \"a\\\\b\\\"c\"");
}

static void
test_flags (void)
{
  MsFilterResult *r = result_with (MS_ACTION_KEEP, NULL, MS_ACTION_KEEP, NULL, -1);
  char *f1[] = { (char *) "\\\\seen \\\\Flagged", NULL };
  char *f2[] = { (char *) "\\\\Seen", (char *) "$Work", NULL };

  ((MsAction *) r->actions->pdata[0])->flags = g_strdupv (f1);
  ((MsAction *) r->actions->pdata[1])->flags = g_strdupv (f2);
  check (r, "keep flags=$Work,\\Flagged,\\Seen");
}

static void
test_failures_keep (void)
{
  MsFilterResult *r = result_with (MS_ACTION_FILEINTO, "A", MS_ACTION_DISCARD, NULL, -1);

  g_ptr_array_add (r->errors, g_strdup ("3: syntax error"));
  check (r, "keep");

  /* libsieve passes vacation and notify strings on as written: a line
   * break in one that goes into the reply's header fails the script */
  {
    const struct {
      MsActionKind kind;
      const char *field, *value, *want;
    } bad[] = {
      { MS_ACTION_VACATION, "from", "a\r\nBcc: v@x", "vacation :from \"a\\r\\nBcc: v@x\" refused: it "
        "contains a line break (CR or LF)" },
      { MS_ACTION_VACATION, "subject", "Away\nBcc: v@x", "vacation :subject" },
      { MS_ACTION_VACATION, "handle", "h\rx", "vacation :handle" },
      { MS_ACTION_VACATION, "addresses", "me\n@example.org", "vacation :addresses" },
      { MS_ACTION_NOTIFY, "from", "a\x7f@example.org", "notify :from \"a\\177@example.org\" refused: it "
        "contains a control character" },
      { MS_ACTION_NOTIFY, "method", "mailto:a@example.org\r\nBcc: v@x", "notify method" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        MsAction *a;
        r = result_with (bad[i].kind, bad[i].kind == MS_ACTION_NOTIFY ? "mailto:a@example.org" : "a@b.org", -1);
        a = r->actions->pdata[0];
        if (strcmp (bad[i].field, "from") == 0)
          a->from = g_strdup (bad[i].value);
        else if (strcmp (bad[i].field, "subject") == 0)
          a->subject = g_strdup (bad[i].value);
        else if (strcmp (bad[i].field, "handle") == 0)
          a->handle = g_strdup (bad[i].value);
        else if (strcmp (bad[i].field, "addresses") == 0)
          a->addresses = g_strsplit (bad[i].value, ",", -1);
        else
          {
            g_free (a->target);
            a->target = g_strdup (bad[i].value);
          }
        ms_filter_result_finish (r);
        g_assert_true (r->failed);
        g_test_message ("%s", r->failure);
        g_assert_nonnull (strstr (r->failure, bad[i].want));
        g_assert_cmpuint (r->actions->len, ==, 1);
        g_assert_cmpint (((MsAction *) r->actions->pdata[0])->kind, ==, MS_ACTION_KEEP);
        ms_filter_result_free (r);
      }
    /* a tab in a subject is text */
    r = result_with (MS_ACTION_VACATION, "a@b.org", -1);
    ((MsAction *) r->actions->pdata[0])->subject = g_strdup ("Away\tnow");
    ms_filter_result_finish (r);
    g_assert_false (r->failed);
    ms_filter_result_free (r);
  }

  r = result_with (MS_ACTION_REDIRECT, "a@b.org\r\nRCPT TO:<x@y.org>", -1);
  ms_filter_result_finish (r);
  g_assert_true (r->failed);
  g_assert_nonnull (strstr (r->failure, "invalid address"));
  g_assert_cmpuint (r->actions->len, ==, 1);
  g_assert_cmpint (((MsAction *) r->actions->pdata[0])->kind, ==, MS_ACTION_KEEP);
  ms_filter_result_free (r);

  check (result_with (MS_ACTION_REJECT, "no", MS_ACTION_FILEINTO, "A", -1), "keep");
  check (result_with (MS_ACTION_REJECT, "no \\\"thanks\\\"", -1), "reject \"no \\\"thanks\\\"\"");
  check (result_with (MS_ACTION_FILEINTO, "", -1), "keep");
}

static void
test_variant_roundtrip (void)
{
  g_autoptr (MsFilterResult) r = result_with (MS_ACTION_FILEINTO, "Ünïcode", MS_ACTION_VACATION,
                                              "a@b.org", -1);
  g_autoptr (MsFilterResult) back = NULL;
  g_autoptr (GVariant) v = NULL;
  MsAction *vac = r->actions->pdata[1];
  char *flags[] = { (char *) "\\Seen", NULL };
  g_autofree char *before = NULL, *after = NULL;

  vac->subject = g_strdup ("Away \xff (bad UTF-8)");
  vac->days = 9;
  vac->mime = TRUE;
  ((MsAction *) r->actions->pdata[0])->flags = g_strdupv (flags);
  g_ptr_array_add (r->errors, g_strdup ("1: x"));
  g_ptr_array_add (r->trace, g_strdup ("t"));
  r->needs_body = TRUE;
  v = g_variant_ref_sink (ms_filter_result_to_variant (r));
  back = ms_filter_result_from_variant (v);
  g_assert_cmpuint (back->actions->len, ==, 2);
  g_assert_cmpuint (back->errors->len, ==, 1);
  g_assert_cmpstr (back->trace->pdata[0], ==, "t");
  g_assert_true (back->needs_body);
  vac = back->actions->pdata[1];
  g_assert_cmpint (vac->days, ==, 9);
  g_assert_true (vac->mime);
  g_assert_true (g_utf8_validate (vac->subject, -1, NULL));
  before = ms_action_format (r->actions->pdata[0]);
  after = ms_action_format (back->actions->pdata[0]);
  g_assert_cmpstr (before, ==, after);
}

/* editheader and duplicate: the edits each action carries, the lines
 * `mailsift test` prints, the wire, and what a failure drops. */
static void
test_edits_and_duplicates (void)
{
  g_autoptr (MsFilterResult) r = result_with (MS_ACTION_KEEP, NULL, MS_ACTION_FILEINTO, "A",
                                              MS_ACTION_REDIRECT, "b@example.org", -1);
  g_autoptr (MsFilterResult) back = NULL;
  g_autoptr (MsFilterResult) failed = result_with (MS_ACTION_FILEINTO, "A", -1);
  g_autoptr (GVariant) v = NULL;
  g_auto (GStrv) got = NULL;
  g_autofree char *joined = NULL;

  g_ptr_array_add (r->edits, ms_header_edit_new (MS_HEADER_EDIT_ADD, "X-A", "=?utf-8?q?K=C3=B6ln?=\n x",
                                                 FALSE, 0));
  g_ptr_array_add (r->edits, ms_header_edit_new (MS_HEADER_EDIT_DELETE, "X-Spam", "yes", FALSE, 2));
  g_ptr_array_add (r->edits, ms_header_edit_new (MS_HEADER_EDIT_ADD, "X-Unused", "1", TRUE, 0));
  ((MsAction *) r->actions->pdata[1])->edits = 1;
  ((MsAction *) r->actions->pdata[2])->edits = 2;
  ms_filter_result_add_duplicate (r, "aa", TRUE);
  ms_filter_result_add_duplicate (r, "bb", TRUE);
  ms_filter_result_add_duplicate (r, "aa", FALSE);
  g_assert_cmpuint (r->duplicates->len, ==, 2);
  g_assert_false (((MsDuplicateMark *) r->duplicates->pdata[0])->seen);

  /* each action after the edits it is the first to carry; an edit that
   * no action carries is not shown */
  got = ms_filter_result_format (r);
  joined = g_strjoinv ("|", got);
  g_assert_cmpstr (joined, ==, "keep|addheader \"X-A: K\xc3\xb6ln x\"|fileinto \"A\"|"
                               "deleteheader \"X-Spam: yes\"|redirect \"b@example.org\"");

  v = g_variant_ref_sink (ms_filter_result_to_variant (r));
  back = ms_filter_result_from_variant (v);
  g_assert_cmpuint (back->edits->len, ==, 3);
  g_assert_cmpint (((MsHeaderEdit *) back->edits->pdata[1])->kind, ==, MS_HEADER_EDIT_DELETE);
  g_assert_cmpuint (((MsHeaderEdit *) back->edits->pdata[1])->index, ==, 2);
  g_assert_true (((MsHeaderEdit *) back->edits->pdata[2])->last);
  g_assert_cmpstr (((MsHeaderEdit *) back->edits->pdata[0])->value, ==, "=?utf-8?q?K=C3=B6ln?=\n x");
  g_assert_cmpuint (((MsAction *) back->actions->pdata[0])->edits, ==, 0);
  g_assert_cmpuint (((MsAction *) back->actions->pdata[2])->edits, ==, 2);
  g_assert_cmpuint (back->duplicates->len, ==, 2);
  g_assert_cmpstr (((MsDuplicateMark *) back->duplicates->pdata[1])->hash, ==, "bb");
  g_assert_true (((MsDuplicateMark *) back->duplicates->pdata[1])->seen);

  /* a failed script keeps the message as it came and remembers nothing */
  g_ptr_array_add (failed->edits, ms_header_edit_new (MS_HEADER_EDIT_ADD, "X-A", "1", FALSE, 0));
  ((MsAction *) failed->actions->pdata[0])->edits = 1;
  ms_filter_result_add_duplicate (failed, "aa", FALSE);
  ms_filter_result_fail (failed, "boom");
  ms_filter_result_finish (failed);
  g_assert_cmpuint (failed->edits->len, ==, 0);
  g_assert_cmpuint (failed->duplicates->len, ==, 0);
  g_assert_cmpuint (((MsAction *) failed->actions->pdata[0])->edits, ==, 0);
}

/* A fake filter process that dies the way libsieve does. */
static char *
fake_worker (const char *body)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-engine-XXXXXX", NULL);
  char *path = g_build_filename (dir, "worker", NULL);
  g_autofree char *text = g_strdup_printf ("#!/bin/sh\n%s\n", body);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_no_errno (g_chmod (path, 0700));
  return path;
}

static void
test_engine_crash_keeps (void)
{
  g_autofree char *exe = fake_worker ("head -c 4 >/dev/null; kill -SEGV $$");
  g_autoptr (MsEngine) engine = ms_engine_new (exe, MS_SIEVE_LIBSIEVE, 5, 512);
  MsFilterRequest req = { .mode = MS_FILTER_EXECUTE, .script_path = "/s.sieve" };

  for (int i = 0; i < 3; i++) /* and again: a new process each time */
    {
      g_autoptr (MsFilterResult) r = ms_engine_run (engine, &req);
      g_autofree char *l = lines (r);
      g_assert_true (r->failed);
      g_assert_nonnull (strstr (r->failure, "crashed (signal 11"));
      g_assert_cmpstr (l, ==, "keep");
    }
}

static void
test_engine_timeout_keeps (void)
{
  g_autofree char *exe = fake_worker ("exec sleep 60");
  g_autoptr (MsEngine) engine = ms_engine_new (exe, MS_SIEVE_LIBSIEVE, 1, 512);
  MsFilterRequest req = { .mode = MS_FILTER_EXECUTE, .script_path = "/s.sieve" };
  gint64 start = g_get_monotonic_time ();
  g_autoptr (MsFilterResult) r = ms_engine_run (engine, &req);

  g_assert_true (r->failed);
  g_assert_nonnull (strstr (r->failure, "did not finish within 1 s"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
}

static void
test_engine_missing_exe (void)
{
  g_autoptr (MsEngine) engine = ms_engine_new ("/nonexistent/mailsift", MS_SIEVE_LIBSIEVE, 2, 512);
  MsFilterRequest req = { .mode = MS_FILTER_EXECUTE, .script_path = "/s.sieve" };
  g_autoptr (MsFilterResult) r = ms_engine_run (engine, &req);
  g_autofree char *l = lines (r);

  g_assert_true (r->failed);
  g_assert_cmpstr (l, ==, "keep");
}

/* A batch goes out ahead of its replies (more requests than fit in one
 * write, more bytes than a default pipe holds), and every reply comes
 * back to the request it belongs to. */
static void
test_engine_batch_in_order (void)
{
  const char *exe = g_getenv ("MAILSIFT");
  g_autofree char *dir = g_dir_make_tmp ("ms-batch-XXXXXX", NULL);
  g_autofree char *script = g_build_filename (dir, "s.sieve", NULL);
  enum { N = 700 };
  MsFilterRequest reqs[N];
  const MsFilterRequest *ptrs[N];
  MsFilterResult *results[N];
  GBytes *headers[N];

  if (exe == NULL)
    {
      g_test_skip ("MAILSIFT is not set (run through make check)");
      return;
    }
  g_assert_true (g_file_set_contents (script,
    "require [\"fileinto\", \"variables\"];\n"
    "if header :matches \"subject\" \"n*\" { fileinto \"f${1}\"; }\n", -1, NULL));
  g_autoptr (MsEngine) engine = ms_engine_new (exe, MS_SIEVE_MAILSIFT, 5, MS_FILTER_MEMORY_DEFAULT_MIB);
  for (guint i = 0; i < N; i++)
    {
      /* about 400 bytes each: the batch is more than 64 KiB */
      g_autofree char *pad = g_strnfill (300, 'x');
      g_autofree char *h = g_strdup_printf ("Subject: n%u\r\nX-Pad: %s\r\n\r\n", i, pad);
      headers[i] = g_bytes_new (h, strlen (h));
      reqs[i] = (MsFilterRequest) { .mode = MS_FILTER_EXECUTE, .script_path = script,
                                    .header = headers[i], .size = strlen (h),
                                    .envelope_from = "a@example.org", .envelope_to = "b@example.org",
                                    .subaddress_separator = "+" };
      ptrs[i] = &reqs[i];
    }
  ms_engine_run_many (engine, ptrs, N, results);
  for (guint i = 0; i < N; i++)
    {
      g_autofree char *l = lines (results[i]);
      g_autofree char *want = g_strdup_printf ("fileinto \"f%u\"", i);
      g_assert_false (results[i]->failed);
      g_assert_cmpstr (l, ==, want);
      ms_filter_result_free (results[i]);
      g_bytes_unref (headers[i]);
    }
}

/* A process that dies during a batch fails the request it was on; a
 * process that never answers fails every request, each with a keep. */
static void
test_engine_batch_crash_keeps (void)
{
  g_autofree char *exe = fake_worker ("head -c 4 >/dev/null; kill -SEGV $$");
  g_autoptr (MsEngine) engine = ms_engine_new (exe, MS_SIEVE_LIBSIEVE, 5, 512);
  MsFilterRequest req = { .mode = MS_FILTER_EXECUTE, .script_path = "/s.sieve" };
  const MsFilterRequest *ptrs[5] = { &req, &req, &req, &req, &req };
  MsFilterResult *results[5];

  ms_engine_run_many (engine, ptrs, 5, results);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *l = lines (results[i]);
      g_assert_true (results[i]->failed);
      g_assert_cmpstr (l, ==, "keep");
      ms_filter_result_free (results[i]);
    }
}

static void
test_lint (void)
{
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  const char *script =
    "require [\"imap4flags\", \"fileinto\"];\n"             /* 1 */
    "# hasflag :is in a comment is fine\n"                   /* 2 */
    "if hasflag :is \"\\\\Seen\" { keep; }\n"                 /* 3 */
    "addflag \"a\";\n"                                       /* 4 */
    "setflag [\"b\", \"c\"];\n"                              /* 5 */
    "if size :over 3G { discard; }\n"                        /* 6 */
    "if header :matches \"subject\" \"*a*b*c*\" { keep; }\n" /* 7 */
    "if envelope :is \"from\" \"x\" { keep; }\n"             /* 8 */
    "if header :comparator \"i;foo\" :is \"x\" \"y\" { keep; }\n"; /* 9 */

  ms_lint_script (script, errors, warnings);
  g_assert_cmpuint (errors->len, ==, 5);
  g_assert_true (g_str_has_prefix (errors->pdata[0], "3: hasflag with :is"));
  g_assert_true (g_str_has_prefix (errors->pdata[1], "5: setflag after addflag (line 4)"));
  g_assert_true (g_str_has_prefix (errors->pdata[2], "6: 3G is 2G or more"));
  g_assert_true (g_str_has_prefix (errors->pdata[3], "8: envelope used without require"));
  g_assert_true (g_str_has_prefix (errors->pdata[4], "9: unknown comparator \"i;foo\""));
  g_assert_cmpuint (warnings->len, ==, 3);
  g_assert_true (g_str_has_prefix (warnings->pdata[0], "3: libsieve does not unescape"));
  g_assert_true (g_str_has_prefix (warnings->pdata[1], "5: libsieve 2.2.6 keeps only the first flag"));
  g_assert_true (g_str_has_prefix (warnings->pdata[2], "7: \"*a*b*c*\" has 4 '*'"));
}

static void
test_lint_clean (void)
{
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);

  ms_lint_script ("require [\"fileinto\", \"envelope\", \"relational\"];\n"
                  "/* envelope :count */ if envelope :count \"ge\" \"to\" \"2\" { fileinto \"X\"; }\n"
                  "if header :contains \"subject\" text:\nmulti ;\nline \"quote\n.\n{ stop; }\n",
                  errors, warnings);
  g_assert_cmpuint (errors->len, ==, 0);
  g_assert_cmpuint (warnings->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);
  g_test_add_func ("/action/implicit-keep", test_implicit_keep);
  g_test_add_func ("/action/dedupe-and-unescape", test_dedupe_and_unescape);
  g_test_add_func ("/action/flags", test_flags);
  g_test_add_func ("/action/failures-keep", test_failures_keep);
  g_test_add_func ("/action/variant-roundtrip", test_variant_roundtrip);
  g_test_add_func ("/action/edits-and-duplicates", test_edits_and_duplicates);
  g_test_add_func ("/engine/crash-keeps", test_engine_crash_keeps);
  g_test_add_func ("/engine/timeout-keeps", test_engine_timeout_keeps);
  g_test_add_func ("/engine/missing-exe", test_engine_missing_exe);
  g_test_add_func ("/engine/batch-in-order", test_engine_batch_in_order);
  g_test_add_func ("/engine/batch-crash-keeps", test_engine_batch_crash_keeps);
  g_test_add_func ("/lint/findings", test_lint);
  g_test_add_func ("/lint/clean", test_lint_clean);
  return g_test_run ();
}
