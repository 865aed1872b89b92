/* Unit tests: action post-processing (what libsieve leaves to us), the
 * wire format, the engine's crash/timeout handling, and the lint. */
#include "action.h"
#include "config.h"
#include "engine.h"
#include "lint.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* @r through the filter pipe's byte format and back. */
static MsFilterResult *
wire_roundtrip (const MsFilterResult *r)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  MsFilterResult *back;

  ms_filter_result_encode (r, out);
  back = ms_filter_result_decode (out->data, out->len);
  g_assert_nonnull (back);
  return back;
}

static void
test_wire_roundtrip (void)
{
  g_autoptr (MsFilterResult) r = result_with (MS_ACTION_FILEINTO, "Ünïcode", MS_ACTION_VACATION,
                                              "a@b.org", -1);
  g_autoptr (MsFilterResult) back = NULL;
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
  back = wire_roundtrip (r);
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

/* The action table (MsActionInfo): a row for every kind, holding what
 * the code asks of it. */
static const struct {
  MsActionKind kind;
  const char *name;
  gboolean files, named_folder, sends, disposes, cancels_implicit_keep, excludes_reject;
  gboolean repeats;      /* a result can hold two that differ (same != NULL) */
  const char *folder;    /* ms_action_folder with the target "F" */
  const char *line;      /* ms_action_format with the target "F" */
  const char *fields;    /* the header fields' names, with "," between */
} expected_kinds[] = {
  { MS_ACTION_KEEP, "keep", TRUE, FALSE, FALSE, TRUE, TRUE, TRUE, FALSE, "INBOX", "keep", "" },
  { MS_ACTION_FILEINTO, "fileinto", TRUE, TRUE, FALSE, TRUE, TRUE, TRUE, TRUE, "F", "fileinto \"F\"", "" },
  { MS_ACTION_REDIRECT, "redirect", FALSE, FALSE, TRUE, TRUE, TRUE, TRUE, TRUE, NULL, "redirect \"F\"", "" },
  { MS_ACTION_DISCARD, "discard", FALSE, FALSE, FALSE, FALSE, TRUE, FALSE, FALSE, NULL, "discard", "" },
  { MS_ACTION_REJECT, "reject", FALSE, FALSE, TRUE, TRUE, TRUE, FALSE, FALSE, NULL, "reject \"F\"", "" },
  { MS_ACTION_VACATION, "vacation", FALSE, FALSE, TRUE, FALSE, FALSE, TRUE, FALSE, NULL,
    "vacation to=\"F\" subject=\"\" days=0", ":from,:subject,:handle,:addresses" },
  { MS_ACTION_NOTIFY, "notify", FALSE, FALSE, TRUE, FALSE, FALSE, FALSE, TRUE, NULL, "notify method=\"F\"",
    ":from,method" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (expected_kinds) == MS_ACTION_N_KINDS);

static void
test_kinds_table (void)
{
  g_autoptr (MsFilterResult) r = ms_filter_result_new ();
  g_autoptr (MsFilterResult) back = NULL;

  for (guint k = 0; k < MS_ACTION_N_KINDS; k++)
    {
      const MsActionInfo *info = ms_action_info (k);
      g_autoptr (MsAction) a = ms_action_new (k, "F");
      g_autoptr (GString) fields = g_string_new (NULL);
      g_autofree char *line = NULL;

      g_test_message ("%s", expected_kinds[k].name);
      g_assert_cmpint (expected_kinds[k].kind, ==, k);
      g_assert_nonnull (info);
      g_assert_cmpstr (info->name, ==, expected_kinds[k].name);
      g_assert_cmpstr (ms_action_kind_to_string (k), ==, expected_kinds[k].name);
      /* each name names one kind */
      for (guint o = 0; o < MS_ACTION_N_KINDS; o++)
        if (o != k)
          g_assert_cmpstr (ms_action_kind_to_string (o), !=, info->name);
      g_assert_cmpint (info->files, ==, expected_kinds[k].files);
      g_assert_cmpint (info->named_folder, ==, expected_kinds[k].named_folder);
      g_assert_cmpint (info->sends, ==, expected_kinds[k].sends);
      g_assert_cmpint (info->disposes, ==, expected_kinds[k].disposes);
      g_assert_cmpint (info->cancels_implicit_keep, ==, expected_kinds[k].cancels_implicit_keep);
      g_assert_cmpint (info->excludes_reject, ==, expected_kinds[k].excludes_reject);
      g_assert_cmpint (info->same != NULL, ==, expected_kinds[k].repeats);
      g_assert_cmpstr (ms_action_folder (a), ==, expected_kinds[k].folder);
      line = ms_action_format (a);
      g_assert_cmpstr (line, ==, expected_kinds[k].line);
      for (const MsActionField *f = info->header_fields; f && f->name; f++)
        g_string_append_printf (fields, "%s%s", fields->len ? "," : "", f->name);
      g_assert_cmpstr (fields->str, ==, expected_kinds[k].fields);
      g_ptr_array_add (r->actions, g_steal_pointer (&a));
    }

  /* every kind crosses the filter pipe as itself */
  back = wire_roundtrip (r);
  g_assert_cmpuint (back->actions->len, ==, MS_ACTION_N_KINDS);
  for (guint k = 0; k < MS_ACTION_N_KINDS; k++)
    g_assert_cmpint (((MsAction *) back->actions->pdata[k])->kind, ==, k);

  /* a value outside the enumeration gets the row that does nothing */
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  g_assert_cmpstr (ms_action_kind_to_string (MS_ACTION_N_KINDS), ==, "?");
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  g_assert_false (ms_action_info (MS_ACTION_N_KINDS)->cancels_implicit_keep);
  g_test_assert_expected_messages ();
}

/* The kinds that can repeat: what makes two the same. */
static void
test_kinds_same (void)
{
  const struct {
    MsActionKind kind;
    const char *target_a, *text_a, *target_b, *text_b;
    gboolean same;
  } pairs[] = {
    { MS_ACTION_FILEINTO, "A", NULL, "A", NULL, TRUE },
    { MS_ACTION_FILEINTO, "A", NULL, "a", NULL, FALSE },
    { MS_ACTION_REDIRECT, "Bob@Example.org", NULL, "Bob@EXAMPLE.ORG", NULL, TRUE },
    { MS_ACTION_REDIRECT, "bob@example.org", NULL, "rob@example.org", NULL, FALSE },
    { MS_ACTION_NOTIFY, "mailto:a@b.org", "hi", "mailto:a@b.org", "hi", TRUE },
    { MS_ACTION_NOTIFY, "mailto:a@b.org", "hi", "mailto:a@b.org", "ho", FALSE },
    { MS_ACTION_NOTIFY, "mailto:a@b.org", NULL, "mailto:c@b.org", NULL, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autoptr (MsAction) a = ms_action_new (pairs[i].kind, pairs[i].target_a);
      g_autoptr (MsAction) b = ms_action_new (pairs[i].kind, pairs[i].target_b);

      a->text = g_strdup (pairs[i].text_a);
      b->text = g_strdup (pairs[i].text_b);
      g_assert_cmpint (ms_action_info (pairs[i].kind)->same (a, b), ==, pairs[i].same);
    }
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

  back = wire_roundtrip (r);
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

/* A result from the filter process is read with every length checked:
 * each cut-short encoding, each one with a byte changed, and trailing
 * bytes are refused or read without harm (run under ASan by CI). */
static void
test_wire_malformed (void)
{
  g_autoptr (MsFilterResult) r = result_with (MS_ACTION_FILEINTO, "A", MS_ACTION_VACATION, "a@b.org", -1);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  char *flags[] = { (char *) "\\Seen", (char *) "x", NULL };

  ((MsAction *) r->actions->pdata[0])->flags = g_strdupv (flags);
  g_ptr_array_add (r->edits, ms_header_edit_new (MS_HEADER_EDIT_ADD, "X-A", "1", FALSE, 0));
  ms_filter_result_add_duplicate (r, "aa", TRUE);
  g_ptr_array_add (r->warnings, g_strdup ("w"));
  ms_filter_result_encode (r, out);
  for (guint len = 0; len < out->len; len++)
    g_assert_null (ms_filter_result_decode (out->data, len));
  for (guint i = 0; i < out->len; i++)
    for (guint bit = 0; bit < 8; bit++)
      {
        g_autofree guint8 *copy = g_memdup2 (out->data, out->len);
        MsFilterResult *back;

        copy[i] ^= (guint8) (1u << bit);
        back = ms_filter_result_decode (copy, out->len);
        if (back != NULL)
          ms_filter_result_free (back);
      }
  {
    g_autofree guint8 *longer = g_malloc0 (out->len + 1);
    memcpy (longer, out->data, out->len);
    g_assert_null (ms_filter_result_decode (longer, out->len + 1));
  }
  /* a NUL or bad UTF-8 inside a string, a count beyond the data */
  {
    static const guint8 nul[] = { 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 'a', 0 };
    static const guint8 bad_utf8[] = { 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xff };
    static const guint8 huge[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff };
    g_assert_null (ms_filter_result_decode (nul, sizeof nul));
    g_assert_null (ms_filter_result_decode (bad_utf8, sizeof bad_utf8));
    g_assert_null (ms_filter_result_decode (huge, sizeof huge));
  }
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
  g_autoptr (MsEngine) engine = ms_engine_new (exe, MS_SIEVE_LIBSIEVE, 5, MS_FILTER_MEMORY_DEFAULT_MIB);
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
  g_autoptr (MsEngine) engine = ms_engine_new (exe, MS_SIEVE_LIBSIEVE, 1, MS_FILTER_MEMORY_DEFAULT_MIB);
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
  g_autoptr (MsEngine) engine = ms_engine_new ("/nonexistent/mailsift", MS_SIEVE_LIBSIEVE, 2, MS_FILTER_MEMORY_DEFAULT_MIB);
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
  g_autoptr (MsEngine) engine = ms_engine_new (exe, MS_SIEVE_LIBSIEVE, 5, MS_FILTER_MEMORY_DEFAULT_MIB);
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

/* The pid of this process's filter process (a child running
 * filter-worker), 0 when there is none. */
static pid_t
find_worker (void)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc && (name = g_dir_read_name (proc)))
    {
      g_autofree char *stat_path = g_build_filename ("/proc", name, "stat", NULL);
      g_autofree char *cmd_path = g_build_filename ("/proc", name, "cmdline", NULL);
      g_autofree char *stat = NULL;
      g_autofree char *cmdline = NULL;
      gsize len = 0;
      const char *end;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (stat_path, &stat, NULL, NULL)
          || (end = strrchr (stat, ')')) == NULL)
        continue;
      /* "pid (comm) state ppid ..." */
      if (g_ascii_strtoll (end + 4, NULL, 10) != getpid ()
          || !g_file_get_contents (cmd_path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, "filter-worker"))
        return (pid_t) g_ascii_strtoll (name, NULL, 10);
    }
  return 0;
}

/* The real filter process runs in its sandbox (filters/sandbox.h), and
 * body and MIME tests on a message file, with a charset that loads an
 * iconv module, still work in it, with both Sieve engines; its status
 * shows no_new_privs and a seccomp filter while it waits for the next
 * message. */
static void
test_engine_sandboxed (void)
{
  const char *exe = g_getenv ("MAILSIFT");
  g_autofree char *dir = g_dir_make_tmp ("ms-sandboxed-XXXXXX", NULL);
  g_autofree char *script = g_build_filename (dir, "s.sieve", NULL);
  g_autofree char *header_script = g_build_filename (dir, "h.sieve", NULL);
  g_autofree char *message = g_build_filename (dir, "message", NULL);
  g_autofree char *self_status = NULL;
  const char *header = "From: a@example.org\nSubject: sandboxed\nMIME-Version: 1.0\n"
                       "Content-Type: multipart/mixed; boundary=\"b\"\n\n";
  const char *body = "--b\nContent-Type: text/plain; charset=windows-1252\n"
                     "Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 =80 price\n"
                     "--b\nContent-Type: application/pdf; name=\"report.pdf\"\n"
                     "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQgc2VjcmV0\n--b--\n";
  g_autofree char *whole = g_strconcat (header, body, NULL);
  g_autoptr (GBytes) header_bytes = g_bytes_new (header, strlen (header));
  gboolean seccomp;
  gboolean landlock;

  if (exe == NULL)
    {
      g_test_skip ("MAILSIFT is not set (run through make check)");
      return;
    }
  seccomp = g_file_get_contents ("/proc/self/status", &self_status, NULL, NULL)
            && strstr (self_status, "\nSeccomp:") != NULL;
#if !defined(__x86_64__) && !defined(__aarch64__)
  seccomp = FALSE;
#endif
  landlock = syscall (SYS_landlock_create_ruleset, NULL, 0, 1 /* VERSION */) >= 1;
  g_assert_true (g_file_set_contents (message, whole, -1, NULL));
  g_assert_true (g_file_set_contents (script,
    "require [\"body\", \"mime\", \"fileinto\", \"foreverypart\"];\n"
    "if body :content \"text\" :contains \"Caf\xc3\xa9 \xe2\x82\xac\" { fileinto \"Body\"; }\n"
    "if header :mime :anychild :contains \"Content-Type\" \"application/pdf\" { fileinto \"Mime\"; }\n",
    -1, NULL));
  g_assert_true (g_file_set_contents (header_script,
    "require \"fileinto\";\nif header :contains \"subject\" \"sandbox\" { fileinto \"Header\"; }\n", -1, NULL));

  for (int backend = MS_SIEVE_MAILSIFT; backend <= MS_SIEVE_LIBSIEVE; backend++)
    {
      g_autoptr (MsEngine) engine = ms_engine_new (exe, backend, 5, MS_FILTER_MEMORY_DEFAULT_MIB);
      MsFilterRequest req = { .mode = MS_FILTER_EXECUTE,
                              .script_path = backend == MS_SIEVE_MAILSIFT ? script : header_script,
                              .header = header_bytes, .size = strlen (whole),
                              .envelope_from = "a@example.org", .envelope_to = "b@example.org",
                              .subaddress_separator = "+", .trace = TRUE, .message_path = message };
      g_autofree char *status_path = NULL;
      g_autofree char *status = NULL;
      g_autoptr (GString) trace = g_string_new (NULL);

      for (int round = 0; round < 2; round++) /* the same process, again */
        {
          g_autoptr (MsFilterResult) r = ms_engine_run (engine, &req);
          g_autofree char *l = lines (r);

          g_assert_false (r->failed);
          g_assert_cmpstr (l, ==, backend == MS_SIEVE_MAILSIFT ? "fileinto \"Body\"|fileinto \"Mime\""
                                                               : "fileinto \"Header\"");
          for (guint i = 0; i < r->trace->len; i++)
            g_string_append_printf (trace, "%s\n", (char *) r->trace->pdata[i]);
        }
      g_test_message ("%s", trace->str);
      g_assert_nonnull (strstr (trace->str, "filter process: sandbox: no_new_privs"));
      if (landlock)
        g_assert_nonnull (strstr (trace->str, "Landlock ABI"));
      if (seccomp)
        g_assert_nonnull (strstr (trace->str, "seccomp"));

      status_path = g_strdup_printf ("/proc/%d/status", (int) find_worker ());
      g_assert_true (g_file_get_contents (status_path, &status, NULL, NULL));
      g_assert_nonnull (strstr (status, "\nNoNewPrivs:\t1\n"));
      if (seccomp)
        g_assert_nonnull (strstr (status, "\nSeccomp:\t2\n"));
    }
  g_unlink (message);
  g_unlink (script);
  g_unlink (header_script);
  g_rmdir (dir);
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
  g_test_add_func ("/action/wire-roundtrip", test_wire_roundtrip);
  g_test_add_func ("/action/wire-malformed", test_wire_malformed);
  g_test_add_func ("/action/edits-and-duplicates", test_edits_and_duplicates);
  g_test_add_func ("/action/kinds-table", test_kinds_table);
  g_test_add_func ("/action/kinds-same", test_kinds_same);
  g_test_add_func ("/engine/crash-keeps", test_engine_crash_keeps);
  g_test_add_func ("/engine/timeout-keeps", test_engine_timeout_keeps);
  g_test_add_func ("/engine/missing-exe", test_engine_missing_exe);
  g_test_add_func ("/engine/batch-in-order", test_engine_batch_in_order);
  g_test_add_func ("/engine/batch-crash-keeps", test_engine_batch_crash_keeps);
  g_test_add_func ("/engine/sandboxed", test_engine_sandboxed);
  g_test_add_func ("/lint/findings", test_lint);
  g_test_add_func ("/lint/clean", test_lint_clean);
  return g_test_run ();
}
