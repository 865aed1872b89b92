/* Unit tests of message/header-edit.c: header edits on the raw header
 * block, byte for byte, in agreement with the header view, and the value
 * encoding of addheader. */
#include "header-edit.h"
#include "header.h"
#include "pipeline.h"

#include <string.h>

static char *
edited (const char *header, const MsHeaderEdit *const *edits)
{
  g_autoptr (MsHeaderEditor) ed = ms_header_editor_new (header, strlen (header));
  g_autoptr (GBytes) out = NULL;
  gsize len;
  const char *data;

  for (guint i = 0; edits && edits[i]; i++)
    g_assert_true (ms_header_editor_apply (ed, edits[i]));
  out = ms_header_editor_get_bytes (ed);
  data = g_bytes_get_data (out, &len);
  return g_strndup (data, len);
}

static void
test_unchanged (void)
{
  static const char *const headers[] = {
    "From: a@example.org\nSubject: hi\n\n",
    "From a@example.org Mon Nov 23 10:00:00 2026\nFrom: a@example.org\n\n",
    "Subject: folded\n  twice\n\tthrice\nX-A: 1\r\n\r\n",
    "Subject: no separator\nX-A: 1",
    "junk line\n continued junk\nX-A: 1\n\n",
    " leading continuation\nX-A: 1\n\n",
    "",
    "\n",
    "X-Bare-CR: a\rb\n\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (headers); i++)
    {
      g_autofree char *out = edited (headers[i], NULL);
      g_assert_cmpstr (out, ==, headers[i]);
    }
}

static void
test_add (void)
{
  g_autoptr (MsHeaderEdit) first = ms_header_edit_new (MS_HEADER_EDIT_ADD, "X-First", "1", FALSE, 0);
  g_autoptr (MsHeaderEdit) last = ms_header_edit_new (MS_HEADER_EDIT_ADD, "X-Last", "2", TRUE, 0);
  g_autoptr (MsHeaderEdit) empty = ms_header_edit_new (MS_HEADER_EDIT_ADD, "X-Empty", "", FALSE, 0);
  const MsHeaderEdit *both[] = { first, last, NULL };
  const MsHeaderEdit *just_last[] = { last, NULL };
  const MsHeaderEdit *just_empty[] = { empty, NULL };
  g_autofree char *a = edited ("From: a@example.org\nSubject: hi\n  there\n\nbody\n", both);
  g_autofree char *b = edited ("From x@y Mon Nov 23 10:00:00 2026\nSubject: hi\n\n", both);
  g_autofree char *c = edited ("Subject: no line end", just_last);
  g_autofree char *d = edited ("", both);
  g_autofree char *e = edited ("Subject: hi\r\n\r\n", just_empty);

  g_assert_cmpstr (a, ==, "X-First: 1\nFrom: a@example.org\nSubject: hi\n  there\nX-Last: 2\n\nbody\n");
  /* the mbox From line stays first */
  g_assert_cmpstr (b, ==, "From x@y Mon Nov 23 10:00:00 2026\nX-First: 1\nSubject: hi\nX-Last: 2\n\n");
  g_assert_cmpstr (c, ==, "Subject: no line end\nX-Last: 2\n");
  g_assert_cmpstr (d, ==, "X-First: 1\nX-Last: 2\n");
  g_assert_cmpstr (e, ==, "X-Empty:\nSubject: hi\r\n\r\n");
}

static void
test_delete (void)
{
  const char *header = "X-Spam: 1\nSubject: hi\nx-spam: 2\n folded\nJunk\n cont\nX-SPAM: 3\r\n\r\n";
  g_autoptr (MsHeaderEdit) second = ms_header_edit_new (MS_HEADER_EDIT_DELETE, "X-Spam", "", FALSE, 2);
  g_autoptr (MsHeaderEdit) third = ms_header_edit_new (MS_HEADER_EDIT_DELETE, "X-Spam", "", FALSE, 3);
  g_autoptr (MsHeaderEdit) first = ms_header_edit_new (MS_HEADER_EDIT_DELETE, "x-SPAM", "", FALSE, 1);
  g_autoptr (MsHeaderEdit) none = ms_header_edit_new (MS_HEADER_EDIT_DELETE, "X-Spam", "", FALSE, 4);
  g_autoptr (MsHeaderEdit) junk = ms_header_edit_new (MS_HEADER_EDIT_DELETE, "Junk", "", FALSE, 1);
  const MsHeaderEdit *one[] = { second, NULL };
  const MsHeaderEdit *all[] = { third, second, first, NULL };
  g_autofree char *a = edited (header, one);
  g_autofree char *b = edited (header, all);
  g_autoptr (MsHeaderEditor) ed = ms_header_editor_new (header, strlen (header));

  /* the continuation goes with its field, the odd line and its
   * continuation stay */
  g_assert_cmpstr (a, ==, "X-Spam: 1\nSubject: hi\nJunk\n cont\nX-SPAM: 3\r\n\r\n");
  g_assert_cmpstr (b, ==, "Subject: hi\nJunk\n cont\n\r\n");
  g_assert_false (ms_header_editor_apply (ed, none));
  g_assert_false (ms_header_editor_apply (ed, junk));
}

/* What the engine counts in the view is what the editor deletes. */
static void
test_agrees_with_view (void)
{
  const char *header = "From me Mon Nov 23 10:00:00 2026\nX-A: one\n x\nbroken\n X-A: not a field\nX-A: two\n"
                       "X-A :three\nX-A: three\r\nX-A: four\n\nX-A: body\n";
  g_autoptr (MsHeaderView) view = ms_header_view_new (header, strlen (header));
  gsize size = ms_header_view_get_header_size (view);
  const char *const *values = ms_header_view_lookup (view, "x-a");
  guint n = g_strv_length ((char **) values);

  g_assert_cmpuint (n, ==, 4);
  for (guint k = 1; k <= n; k++)
    {
      g_autoptr (GBytes) in = g_bytes_new_static (header, strlen (header));
      g_autoptr (GPtrArray) edits = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_header_edit_free);
      g_autoptr (GBytes) out = NULL;
      g_autoptr (MsHeaderView) after = NULL;
      const char *const *left;
      gsize len;
      const char *data;

      g_ptr_array_add (edits, ms_header_edit_new (MS_HEADER_EDIT_DELETE, "X-A", "", FALSE, k));
      out = ms_header_edits_apply (in, size, edits, 1);
      data = g_bytes_get_data (out, &len);
      after = ms_header_view_new (data, len);
      left = ms_header_view_lookup (after, "X-A");
      g_assert_cmpuint (g_strv_length ((char **) left), ==, n - 1);
      for (guint i = 0, j = 0; i < n; i++)
        if (i != k - 1)
          g_assert_cmpstr (left[j++], ==, values[i]);
    }
}

static void
test_apply_prefix (void)
{
  const char *msg = "Subject: hi\n\nbody\n";
  g_autoptr (GBytes) in = g_bytes_new_static (msg, strlen (msg));
  g_autoptr (GPtrArray) edits = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_header_edit_free);
  g_autoptr (GBytes) none = NULL, one = NULL;

  g_ptr_array_add (edits, ms_header_edit_new (MS_HEADER_EDIT_ADD, "X-A", "1", FALSE, 0));
  g_ptr_array_add (edits, ms_header_edit_new (MS_HEADER_EDIT_DELETE, "Subject", "hi", FALSE, 1));
  none = ms_header_edits_apply (in, 13, edits, 0);
  one = ms_header_edits_apply (in, 13, edits, 1);
  g_assert_cmpmem (g_bytes_get_data (none, NULL), g_bytes_get_size (none), "Subject: hi\n\n", 13);
  g_assert_cmpmem (g_bytes_get_data (one, NULL), g_bytes_get_size (one), "X-A: 1\nSubject: hi\n\n", 20);
}

static void
test_names (void)
{
  g_assert_true (ms_header_field_name_is_valid ("X-Foo", 5));
  g_assert_true (ms_header_field_name_is_valid ("a!#$%&'*+-.^_`{|}~", 18));
  g_assert_false (ms_header_field_name_is_valid ("", 0));
  g_assert_false (ms_header_field_name_is_valid ("X Foo", 5));
  g_assert_false (ms_header_field_name_is_valid ("X:Foo", 5));
  g_assert_false (ms_header_field_name_is_valid ("X-F\xc3\xbc", 5));
  g_assert_false (ms_header_field_name_is_valid ("X\nFoo", 5));
  g_assert_true (ms_header_field_is_protected ("received"));
  g_assert_true (ms_header_field_is_protected ("AUTO-SUBMITTED"));
  g_assert_true (ms_header_field_is_protected ("X-Mailsift-Redirected"));
  /* the redirect loop guard the pipeline writes and reads */
  g_assert_true (ms_header_field_is_protected (MS_TRACE_HEADER));
  g_assert_false (ms_header_field_is_protected ("Subject"));
}

/* Encode, write as a field, and read back through the view. */
static char *
round_trip (const char *value, gsize len, char **written_out)
{
  const char *why = NULL;
  g_autofree char *body = ms_header_value_encode (value, len, 7, &why);
  g_autofree char *field = NULL;
  g_autoptr (MsHeaderView) view = NULL;

  g_assert_nonnull (body);
  field = g_strdup_printf ("X-Test: %s\n\n", body);
  /* 7-bit, and no line longer than 998 */
  for (const char *p = field, *line = field; *p; p++)
    {
      g_assert_cmpint ((guchar) *p, <, 0x80);
      if (*p == '\n')
        {
          g_assert_cmpint (p - line, <=, 998);
          line = p + 1;
        }
    }
  view = ms_header_view_new (field, strlen (field));
  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 1);
  if (written_out)
    *written_out = g_steal_pointer (&body);
  return g_strdup (ms_header_view_get_first (view, "X-Test"));
}

static void
test_encode (void)
{
  g_autofree char *long_text = NULL, *long_word = NULL;
  g_autofree char *w1 = NULL, *w2 = NULL, *w3 = NULL, *w4 = NULL;
  g_autofree char *v1 = round_trip ("plain text", 10, &w1);
  g_autofree char *v2 = round_trip ("Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln", 17, &w2);
  g_autofree char *v3 = round_trip ("line one\r\n  line two\nthree\r", 27, &w3);
  g_autofree char *v4 = round_trip ("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9, &w4);
  g_autofree char *v5 = round_trip ("bell\x07 here", 10, NULL);
  g_autofree char *v6 = round_trip ("bad \xff utf-8", 11, NULL);
  g_autofree char *v7 = NULL, *v8 = NULL, *w7 = NULL;
  const char *why = NULL;
  GString *s = g_string_new (NULL);

  g_assert_cmpstr (w1, ==, "plain text");
  g_assert_cmpstr (v1, ==, "plain text");
  g_assert_cmpstr (w2, ==, "=?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?utf-8?q?K=C3=B6ln?=");
  g_assert_cmpstr (v2, ==, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");
  g_assert_cmpstr (w3, ==, "line one line two three");
  g_assert_cmpstr (v3, ==, "line one line two three");
  g_assert_cmpstr (w4, ==, "=?utf-8?b?5pel5pys6Kqe?=");
  g_assert_cmpstr (v4, ==, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  g_assert_cmpstr (v5, ==, "bell\x07 here");
  g_assert_cmpstr (v6, ==, "bad \xef\xbf\xbd utf-8");

  /* folded at spaces; unfolding gives the text back */
  for (int i = 0; i < 60; i++)
    g_string_append_printf (s, "%sword%d", i ? " " : "", i);
  long_text = g_string_free (s, FALSE);
  v7 = round_trip (long_text, strlen (long_text), &w7);
  g_assert_cmpstr (v7, ==, long_text);
  g_assert_nonnull (strchr (w7, '\n'));
  {
    g_auto (GStrv) lines = g_strsplit (w7, "\n", -1);
    for (guint k = 0; lines[k]; k++)
      g_assert_cmpuint (strlen (lines[k]) + (k == 0 ? 8 : 0), <=, 78);
  }

  /* a word too long for any line is encoded, so it can be split */
  long_word = g_strnfill (1500, 'x');
  v8 = round_trip (long_word, 1500, NULL);
  g_assert_cmpstr (v8, ==, long_word);

  g_assert_null (ms_header_value_encode ("a\0b", 3, 7, &why));
  g_assert_cmpstr (why, ==, "it contains a NUL character");
  {
    g_autofree char *big = g_strnfill (MS_HEADER_EDIT_MAX_VALUE + 1, 'y');
    g_assert_null (ms_header_value_encode (big, strlen (big), 7, &why));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/header-edit/unchanged", test_unchanged);
  g_test_add_func ("/header-edit/add", test_add);
  g_test_add_func ("/header-edit/delete", test_delete);
  g_test_add_func ("/header-edit/agrees-with-view", test_agrees_with_view);
  g_test_add_func ("/header-edit/apply-prefix", test_apply_prefix);
  g_test_add_func ("/header-edit/names", test_names);
  g_test_add_func ("/header-edit/encode", test_encode);
  return g_test_run ();
}
