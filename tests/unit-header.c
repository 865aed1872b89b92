/* Unit tests: the header view (unfolding, lookup, hostile input, limits)
 * and RFC 2047 decoding. */
#include "address.h"
#include "header.h"
#include "rfc2047.h"

#include <string.h>

#define U_FFFD "\xEF\xBF\xBD"

/* Parse @len bytes (or strlen when -1) of @data. */
static MsHeaderView *
view_of (const char *data, gssize len)
{
  return ms_header_view_new (data, len < 0 ? strlen (data) : (gsize) len);
}

/* The number of values lookup() returns for @name. */
static guint
count_of (const MsHeaderView *view, const char *name)
{
  const char *const *values = ms_header_view_lookup (view, name);

  return values ? g_strv_length ((GStrv) values) : 0;
}

static void
check_decode (const char *encoded, const char *want)
{
  g_autofree char *got = ms_rfc2047_decode (encoded);

  if (g_strcmp0 (got, want) != 0)
    g_test_message ("decoding: %s", encoded);
  g_assert_cmpstr (got, ==, want);
  g_assert_true (g_utf8_validate (got, -1, NULL));
}

static void
test_unfold (void)
{
  static const char *const inputs[] = {
    "Subject: one\n two\n\tthree\nX-B: b\n\nbody\n",
    "Subject: one\r\n two\r\n\tthree\r\nX-B: b\r\n\r\nbody\r\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (MsHeaderView) view = view_of (inputs[i], -1);

      g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 2);
      g_assert_cmpstr (ms_header_view_get_name (view, 0), ==, "Subject");
      g_assert_cmpstr (ms_header_view_get_raw (view, 0), ==, "one two\tthree");
      g_assert_cmpstr (ms_header_view_get_value (view, 0), ==, "one two\tthree");
      g_assert_cmpstr (ms_header_view_get_first (view, "X-B"), ==, "b");
      g_assert_true (ms_header_view_has_separator (view));
    }
}

static void
test_trim (void)
{
  g_autoptr (MsHeaderView) view = view_of ("Subject:   a  b \t\nX-Empty:\nX-Blank: \t \n folded-in \n\n", -1);

  g_assert_cmpstr (ms_header_view_get_first (view, "Subject"), ==, "a  b");
  g_assert_cmpstr (ms_header_view_get_first (view, "X-Empty"), ==, "");
  g_assert_cmpstr (ms_header_view_get_first (view, "X-Blank"), ==, "folded-in");
}

static void
test_duplicates (void)
{
  g_autoptr (MsHeaderView) view = view_of ("Received: from a\n"
                                           "Subject: s\n"
                                           "Received: from b\n"
                                           "  by c\n"
                                           "RECEIVED: from d\n\n", -1);
  const char *const *received = ms_header_view_lookup (view, "received");

  g_assert_nonnull (received);
  g_assert_cmpuint (g_strv_length ((GStrv) received), ==, 3);
  g_assert_cmpstr (received[0], ==, "from a");
  g_assert_cmpstr (received[1], ==, "from b  by c");
  g_assert_cmpstr (received[2], ==, "from d");
  g_assert_null (received[3]);
  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 4);
  g_assert_cmpstr (ms_header_view_get_name (view, 3), ==, "RECEIVED");
  g_assert_cmpuint (count_of (view, "RECEIVED"), ==, 3);
  g_assert_cmpuint (count_of (view, "Subject"), ==, 1);
  g_assert_cmpuint (count_of (view, "To"), ==, 0);
}

static void
test_case_insensitive (void)
{
  g_autoptr (MsHeaderView) view = view_of ("sUbJeCt: hi\nX-Spam-Flag: YES\n\n", -1);

  g_assert_cmpstr (ms_header_view_get_first (view, "Subject"), ==, "hi");
  g_assert_cmpstr (ms_header_view_get_first (view, "SUBJECT"), ==, "hi");
  g_assert_cmpstr (ms_header_view_get_first (view, "subject"), ==, "hi");
  g_assert_cmpstr (ms_header_view_get_first (view, "x-spam-flag"), ==, "YES");
  g_assert_null (ms_header_view_get_first (view, "Subjec"));
  g_assert_null (ms_header_view_lookup (view, "From"));
  g_assert_null (ms_header_view_lookup (view, ""));
}

static void
test_nul_bytes (void)
{
  static const char msg[] = "X-A: a\0b\0\nX\0B: hidden\nX-C: c\n\nbody\0";
  g_autoptr (MsHeaderView) view = view_of (msg, sizeof msg - 1);

  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 2);
  g_assert_cmpstr (ms_header_view_get_first (view, "X-A"), ==, "a" U_FFFD "b" U_FFFD);
  g_assert_cmpstr (ms_header_view_get_raw (view, 0), ==, "a" U_FFFD "b" U_FFFD);
  /* a name with a NUL in it is not a name */
  g_assert_cmpstr (ms_header_view_get_name (view, 1), ==, "X-C");
  g_assert_cmpuint (ms_header_view_get_header_size (view), ==, strlen ("X-A: a0b0\nX0B: hidden\nX-C: c\n\n"));
}

static void
test_8bit (void)
{
  g_autoptr (MsHeaderView) view = view_of ("X-\xe9t\xe9: caf\xe9\n"
                                           "Subject: J\xc3\xb6rg \xff\n"
                                           "X-\xc3\xa4: ok\n\n", -1);

  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 3);
  g_assert_cmpstr (ms_header_view_get_name (view, 0), ==, "X-" U_FFFD "t" U_FFFD);
  g_assert_cmpstr (ms_header_view_get_value (view, 0), ==, "caf" U_FFFD);
  g_assert_cmpstr (ms_header_view_get_first (view, "Subject"), ==, "Jörg " U_FFFD);
  g_assert_cmpstr (ms_header_view_get_first (view, "X-ä"), ==, "ok");
  for (guint i = 0; i < ms_header_view_get_n_fields (view); i++)
    {
      g_assert_true (g_utf8_validate (ms_header_view_get_name (view, i), -1, NULL));
      g_assert_true (g_utf8_validate (ms_header_view_get_value (view, i), -1, NULL));
      g_assert_true (g_utf8_validate (ms_header_view_get_raw (view, i), -1, NULL));
    }
}

static void
test_ignored_lines (void)
{
  g_autoptr (MsHeaderView) view = view_of (" leading continuation\n"
                                           "no colon here\n"
                                           " its continuation\n"
                                           "Bad Name: x\n"
                                           " more of it\n"
                                           ": empty name\n"
                                           "X-Ctl\x01: y\n"
                                           "Good: yes\n"
                                           " folded\n\n", -1);

  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 1);
  g_assert_cmpstr (ms_header_view_get_name (view, 0), ==, "Good");
  g_assert_cmpstr (ms_header_view_get_value (view, 0), ==, "yes folded");
  g_assert_null (ms_header_view_lookup (view, "Bad Name"));
}

static void
test_bare_cr (void)
{
  g_autoptr (MsHeaderView) view = view_of ("Subject: a\rBcc: x\n\n", -1);

  /* raw is as written; the decoded value cannot forge a header line */
  g_assert_cmpstr (ms_header_view_get_raw (view, 0), ==, "a\rBcc: x");
  g_assert_cmpstr (ms_header_view_get_value (view, 0), ==, "a Bcc: x");
  g_assert_null (ms_header_view_lookup (view, "Bcc"));
}

static void
test_no_separator (void)
{
  static const char msg[] = "A: 1\nB: 2\n folded";
  g_autoptr (MsHeaderView) view = view_of (msg, -1);

  g_assert_false (ms_header_view_has_separator (view));
  g_assert_cmpuint (ms_header_view_get_header_size (view), ==, strlen (msg));
  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 2);
  g_assert_cmpstr (ms_header_view_get_first (view, "B"), ==, "2 folded");
}

static void
test_empty (void)
{
  g_autoptr (MsHeaderView) none = ms_header_view_new (NULL, 0);
  g_autoptr (MsHeaderView) empty = view_of ("", 0);
  g_autoptr (MsHeaderView) lf = view_of ("\nA: body, not header\n", -1);
  g_autoptr (MsHeaderView) crlf = view_of ("\r\nA: b\r\n", -1);

  g_assert_cmpuint (ms_header_view_get_n_fields (none), ==, 0);
  g_assert_cmpuint (ms_header_view_get_header_size (none), ==, 0);
  g_assert_false (ms_header_view_has_separator (none));
  g_assert_cmpuint (ms_header_view_get_n_fields (empty), ==, 0);
  g_assert_cmpuint (ms_header_view_get_header_size (empty), ==, 0);
  g_assert_false (ms_header_view_has_separator (empty));
  g_assert_null (ms_header_view_get_first (empty, "Subject"));

  g_assert_cmpuint (ms_header_view_get_n_fields (lf), ==, 0);
  g_assert_cmpuint (ms_header_view_get_header_size (lf), ==, 1);
  g_assert_true (ms_header_view_has_separator (lf));
  g_assert_cmpuint (ms_header_view_get_n_fields (crlf), ==, 0);
  g_assert_cmpuint (ms_header_view_get_header_size (crlf), ==, 2);
  g_assert_true (ms_header_view_has_separator (crlf));
}

static void
test_size (void)
{
  static const char lf[] = "A: 1\nB: 2\n 3\n\nbody\n\nC: not a header\n";
  static const char crlf[] = "A: 1\r\nB: 2\r\n 3\r\n\r\nbody\r\n\r\nC: not a header\r\n";
  g_autoptr (MsHeaderView) v1 = view_of (lf, -1);
  g_autoptr (MsHeaderView) v2 = view_of (crlf, -1);

  g_assert_cmpuint (ms_header_view_get_header_size (v1), ==, strlen ("A: 1\nB: 2\n 3\n\n"));
  g_assert_cmpuint (ms_header_view_get_header_size (v1), ==, 14);
  g_assert_cmpuint (ms_header_view_get_header_size (v2), ==, strlen ("A: 1\r\nB: 2\r\n 3\r\n\r\n"));
  g_assert_cmpuint (ms_header_view_get_header_size (v2), ==, 18);
  g_assert_true (ms_header_view_has_separator (v1));
  g_assert_true (ms_header_view_has_separator (v2));
  g_assert_null (ms_header_view_lookup (v1, "C"));
  g_assert_null (ms_header_view_lookup (v2, "C"));
  g_assert_cmpstr (ms_header_view_get_first (v2, "B"), ==, "2 3");
}

static void
test_mbox_from (void)
{
  static const char msg[] = "From alice@example.org Mon Jan  1 00:00:00 2024\n"
                            "From: Alice <alice@example.org>\n"
                            "Subject: x\n\n";
  g_autoptr (MsHeaderView) view = view_of (msg, -1);
  g_autoptr (MsHeaderView) later = view_of ("Subject: x\nFrom bob Mon Jan  1 00:00:00 2024\nTo: t\n\n", -1);

  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 2);
  g_assert_cmpstr (ms_header_view_get_name (view, 0), ==, "From");
  g_assert_cmpstr (ms_header_view_get_first (view, "From"), ==, "Alice <alice@example.org>");
  g_assert_cmpuint (ms_header_view_get_header_size (view), ==, strlen (msg));
  /* only a first line is an mbox separator; later it is just not a field */
  g_assert_cmpuint (ms_header_view_get_n_fields (later), ==, 2);
  g_assert_null (ms_header_view_lookup (later, "From"));
}

static void
test_long_line (void)
{
  const gsize n = 1024 * 1024;
  g_autoptr (GString) msg = g_string_new ("X-Long: ");
  g_autoptr (MsHeaderView) view = NULL;
  const char *value;

  for (gsize i = 0; i < n; i++)
    g_string_append_c (msg, (char) ('a' + i % 26));
  g_string_append (msg, "\nX-After: yes\n\nbody\n");
  view = view_of (msg->str, (gssize) msg->len);

  value = ms_header_view_get_first (view, "x-long");
  g_assert_nonnull (value);
  g_assert_cmpuint (strlen (value), ==, n);
  g_assert_true (memcmp (value, msg->str + 8, n) == 0);
  g_assert_cmpstr (ms_header_view_get_first (view, "X-After"), ==, "yes");
  g_assert_cmpuint (ms_header_view_get_header_size (view), ==, msg->len - 5);
}

static void
test_max_bytes (void)
{
  /* 8192 lines of exactly 1 KiB fill MS_HEADER_MAX_BYTES to the byte */
  const guint lines = MS_HEADER_MAX_BYTES / 1024;
  g_autoptr (GString) msg = g_string_sized_new (MS_HEADER_MAX_BYTES + 64);
  g_autoptr (MsHeaderView) view = NULL;
  g_autoptr (MsHeaderView) one = NULL;
  g_autofree char *filler = g_strnfill (1024 - 12, 'x');

  G_STATIC_ASSERT (MS_HEADER_MAX_BYTES % 1024 == 0);
  for (guint i = 0; i < lines; i++)
    g_string_append_printf (msg, "X-F%06u: %s\n", i, filler);
  g_assert_cmpuint (msg->len, ==, MS_HEADER_MAX_BYTES);
  g_string_append (msg, "X-After: yes\n\nbody\n");
  view = view_of (msg->str, (gssize) msg->len);

  g_assert_cmpuint (ms_header_view_get_header_size (view), ==, MS_HEADER_MAX_BYTES);
  g_assert_false (ms_header_view_has_separator (view));
  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, lines);
  g_assert_null (ms_header_view_lookup (view, "X-After"));
  g_assert_cmpuint (strlen (ms_header_view_get_first (view, "X-F008191")), ==, 1024 - 12);

  /* one line longer than the limit: cut mid-line, so it is all body */
  g_string_truncate (msg, 0);
  g_string_append (msg, "X-Huge: ");
  while (msg->len <= MS_HEADER_MAX_BYTES)
    g_string_append (msg, filler);
  g_string_append (msg, "\n\n");
  one = view_of (msg->str, (gssize) msg->len);
  g_assert_cmpuint (ms_header_view_get_n_fields (one), ==, 0);
  g_assert_cmpuint (ms_header_view_get_header_size (one), ==, 0);
  g_assert_false (ms_header_view_has_separator (one));
}

static void
test_max_fields (void)
{
  g_autoptr (GString) msg = g_string_new (NULL);
  g_autoptr (MsHeaderView) view = NULL;

  for (guint i = 0; i < MS_HEADER_MAX_FIELDS + 5; i++)
    g_string_append_printf (msg, "X-%u: %u\n continued\n", i, i);
  g_string_append (msg, "\nbody\n");
  view = view_of (msg->str, (gssize) msg->len);

  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, MS_HEADER_MAX_FIELDS);
  g_assert_cmpstr (ms_header_view_get_name (view, MS_HEADER_MAX_FIELDS - 1), ==, "X-9999");
  g_assert_null (ms_header_view_lookup (view, "X-10000"));
  /* the header still ends where it ends */
  g_assert_true (ms_header_view_has_separator (view));
  g_assert_cmpuint (ms_header_view_get_header_size (view), ==, msg->len - 5);
}

static void
test_rfc2047_latin1 (void)
{
  check_decode ("=?ISO-8859-1?Q?J=F6rg?=", "Jörg");
  check_decode ("=?iso-8859-1?q?J=f6rg?=", "Jörg");
  check_decode ("=?ISO-8859-1?B?SvZyZw==?=", "Jörg");
  check_decode ("=?iso-8859-15?Q?=A4uro?=", "€uro");
  /* labelled ASCII, sent 8-bit: read as Windows-1252 */
  check_decode ("=?us-ascii?Q?caf=E9?=", "café");
}

static void
test_rfc2047_utf8 (void)
{
  check_decode ("=?UTF-8?B?SsO2cmc=?=", "Jörg");
  check_decode ("=?utf-8?b?SsO2cmc?=", "Jörg"); /* padding dropped */
  check_decode ("=?UTF-8?Q?J=C3=B6rg?=", "Jörg");
  check_decode ("Re: =?UTF-8?Q?J=C3=B6rg?= says hi", "Re: Jörg says hi");
  check_decode ("x=?UTF-8?Q?y?=z", "xyz");
  check_decode ("=?UTF-8?Q?" "?=", ""); /* split: "??=" is a trigraph */
  check_decode ("a =?ISO-8859-1?B?" "?= b", "a  b");
  /* RFC 2231 language suffix */
  check_decode ("=?UTF-8*de?Q?Gr=C3=BC=C3=9Fe?=", "Grüße");
  check_decode ("=?us-ascii*en-US?Q?hi?=", "hi");
  /* a NUL cannot cut the value short, nor CR LF make a new line */
  check_decode ("=?UTF-8?Q?a=00b?=", "a" U_FFFD "b");
  check_decode ("=?UTF-8?Q?a=0D=0ABcc:_x?=", "a  Bcc: x");
  /* no encoded word at all: made valid, nothing else */
  check_decode ("plain \xff text", "plain " U_FFFD " text");
}

static void
test_rfc2047_underscore (void)
{
  check_decode ("=?UTF-8?Q?hello_world?=", "hello world");
  check_decode ("=?UTF-8?Q?a=5Fb_c?=", "a_b c");
  /* underscores are only special in Q */
  check_decode ("=?UTF-8?B?YV9i?=", "a_b");
  check_decode ("snake_case", "snake_case");
}

static void
test_rfc2047_iso2022jp (void)
{
  g_autofree char *probe = g_convert ("\x1b$BF|\x1b(B", -1, "UTF-8", "ISO-2022-JP", NULL, NULL, NULL);

  if (probe == NULL)
    {
      g_test_skip ("iconv has no ISO-2022-JP");
      return;
    }
  check_decode ("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", "日本語");
  check_decode ("=?iso-2022-jp?Q?=1B$BF|K=5C8l=1B(B?=", "日本語");
  check_decode ("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "日本語テスト");
  /* padded words of one escape sequence each (GMime: "日") */
  check_decode ("=?ISO-2022-JP?B?GyRCRnw=?= =?ISO-2022-JP?B?GyRCS1wbKEI=?=", "日本");
}

static void
test_rfc2047_adjacent (void)
{
  check_decode ("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab");
  check_decode ("=?UTF-8?Q?a?=\r\n\t =?UTF-8?Q?b?=", "ab");
  check_decode ("=?UTF-8?Q?a?==?UTF-8?Q?b?=", "ab");
  /* white space between a word and text is text */
  check_decode ("=?UTF-8?Q?a?= b =?UTF-8?Q?c?=", "a b c");
  check_decode ("=?UTF-8?Q?a_?= =?UTF-8?Q?_b?=", "a  b");
  /* different charsets side by side */
  check_decode ("=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?=", "éé");
  /* a character split across two words */
  check_decode ("=?UTF-8?Q?J=C3?= =?UTF-8?Q?=B6rg?=", "Jörg");
  check_decode ("=?UTF-8?B?SsO=?= =?UTF-8?B?tnJn?=", "Jörg");
  /* padding inside a run of B words does not end it (GMime 3.2.13 stops
   * there and returns "Jörg" and "é"; Pigeonhole agrees with us) */
  check_decode ("=?UTF-8?B?SsO2cmc=?= =?UTF-8?B?SsO2cmc=?=", "JörgJörg");
  check_decode ("=?UTF-8?B?SsO2cmc=?= =?UTF-8?B?SsO2cmc=?= =?UTF-8?B?SsO2cmc=?=", "JörgJörgJörg");
  check_decode ("=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=", "éé");
  /* unpadded B keeps its last bytes (GMime: "Jö", "Jö") */
  check_decode ("=?UTF-8?B?SsO2cm?=", "Jör");

  {
    g_autoptr (MsHeaderView) view = view_of ("Subject: =?UTF-8?Q?Gr=C3=BC?=\n =?UTF-8?Q?=C3=9Fe?= aus\n"
                                             "\t=?ISO-8859-1?Q?K=F6ln?=\n\n", -1);

    g_assert_cmpstr (ms_header_view_get_first (view, "Subject"), ==, "Grüße aus\tKöln");
    g_assert_cmpstr (ms_header_view_get_raw (view, 0), ==,
                     "=?UTF-8?Q?Gr=C3=BC?= =?UTF-8?Q?=C3=9Fe?= aus\t=?ISO-8859-1?Q?K=F6ln?=");
  }
}

static void
test_rfc2047_malformed (void)
{
  static const char *const literal[] = {
    "=?UTF-8?B?###?=",           /* not base64 */
    "=?UTF-8?B?SsO2c?=",         /* a lone base64 digit */
    "=?UTF-8?B?SsO2cmc===?=",    /* too much padding */
    "=?UTF-8?B?Sw=x?=",          /* data after padding */
    "=?UTF-8?Q?=ZZ?=",           /* bad hex */
    "=?UTF-8?Q?abc=?=",          /* truncated escape */
    "=?UTF-8?Q?abc=4?=",         /* truncated escape */
    "=?UTF-8?X?abc?=",           /* no such encoding */
    "=?UTF-8?BB?abc?=",          /* nor this */
    "=??B?SsO2cmc=?=",           /* no charset */
    "=?*en?Q?abc?=",             /* only a language */
    "=?UTF-8?B?SsO2cmc=",        /* unterminated */
    "=?UTF-8?Q?a b?=",           /* space inside the word */
    "=?UTF-8?Q?",
    "=?UTF-8?",
    "=?UTF-8",
    "=?",
    "=?=?=?=?",
    "=?a/b?Q?x?=",               /* not a charset name */
    "=?x-no-such-charset?B?/w==?=", /* unknown charset, not UTF-8 either */
    "=?UTF-8?B?/w==?=",          /* not UTF-8 */
    "=?UTF-8?Q?=C3?=",           /* half a character */
    "=?UTF-8//TRANSLIT?Q?x?=",   /* an iconv suffix (GMime decodes it) */
    "=?../../etc/passwd?Q?x?=",  /* nor a path */
    "=?UTF-8?Q?=3?=",            /* truncated escape (GMime: "") */
    "=?UTF-8?B?SsO2cmc=x?=",     /* data after padding (GMime: "Jörg") */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (literal); i++)
    check_decode (literal[i], literal[i]);
  /* an unknown charset is taken as UTF-8 when the bytes are */
  check_decode ("=?x-unknown?Q?J=C3=B6rg?=", "Jörg");
  /* the white space around a literal word stays */
  check_decode ("=?UTF-8?Q?a?= =?UTF-8?B?###?= =?UTF-8?Q?b?=", "a =?UTF-8?B?###?= b");
  check_decode ("=?UTF-8?Q?a?= =?UTF-8?B?/w==?= =?UTF-8?Q?b?=", "a =?UTF-8?B?/w==?= b");
  check_decode ("=?UTF-8?Q?a?= =?UTF-8?Q?=C3?= =?ISO-8859-1?Q?b?=", "a =?UTF-8?Q?=C3?= b");
  check_decode ("=?UTF-8?Q?ok?= =?UTF-8?Q?=ZZ?=", "ok =?UTF-8?Q?=ZZ?=");
}

static void
check_address_field (const char *field, const char *want_value, const char *want_addrs)
{
  g_autoptr (MsHeaderView) view = view_of (field, -1);
  g_auto (GStrv) addrs = NULL;
  g_autofree char *joined = NULL;

  g_assert_cmpuint (ms_header_view_get_n_fields (view), ==, 1);
  g_assert_cmpstr (ms_header_view_get_value (view, 0), ==, want_value);
  addrs = ms_address_list_parse (ms_header_view_get_value (view, 0));
  joined = g_strjoinv ("|", addrs);
  g_assert_cmpstr (joined, ==, want_addrs);
}

static void
test_address_fields (void)
{
  check_address_field ("From: =?UTF-8?B?SsO2cmc=?= <j@x.org>\n\n", "\"Jörg\" <j@x.org>", "j@x.org");
  /* a decoded ',' '"' or '\' must not split or break the list */
  check_address_field ("To: =?UTF-8?Q?Doe=2C_=22J=C3=B6rg=22_=5C?= <j@x.org>, b@c.org\n\n",
                       "\"Doe, \\\"Jörg\\\" \\\\\" <j@x.org>, b@c.org", "j@x.org|b@c.org");
  check_address_field ("Cc: =?UTF-8?Q?Mallory_=3Cevil=40x.org=3E=2C?= <m@x.org>\n\n",
                       "\"Mallory <evil@x.org>,\" <m@x.org>", "m@x.org");
  /* encoded words inside quotes, as some senders write them */
  check_address_field ("Reply-To: \"=?ISO-8859-1?Q?J=F6rg?=\" <j@x.org>\n\n", "\"Jörg\" <j@x.org>", "j@x.org");
  /* words next to plain text in one name */
  check_address_field ("Sender: Dr. =?UTF-8?Q?J=C3=B6rg?= Meier <j@x.org>\n\n",
                       "\"Dr. Jörg Meier\" <j@x.org>", "j@x.org");
  check_address_field ("Resent-To: =?UTF-8?Q?Gr=C3=BCppe?=: a@b.org, c@d.org;\n\n",
                       "\"Grüppe\": a@b.org, c@d.org;", "a@b.org|c@d.org");
  /* a '>' in a comment does not end the angle-addr, for either scanner */
  check_address_field ("From: =?UTF-8?Q?J=C3=B6rg?= <j@x.org (old: <o@x.org>)>, =?UTF-8?Q?Ann?= <a@x.org>\n\n",
                       "\"Jörg\" <j@x.org (old: <o@x.org>)>, \"Ann\" <a@x.org>", "j@x.org|a@x.org");
  /* nothing to decode: as written */
  check_address_field ("To: \"Doe, J\" <j@x.org>, k@x.org (K)\n\n", "\"Doe, J\" <j@x.org>, k@x.org (K)",
                       "j@x.org|k@x.org");
  /* outside display names, encoded-word look-alikes are not touched */
  check_address_field ("Delivered-To: =?UTF-8?Q?x?=@x.org\n\n", "=?UTF-8?Q?x?=@x.org", "=?UTF-8?Q?x?=@x.org");
  check_address_field ("Return-Path: <=?UTF-8?Q?x?=@x.org>\n\n", "<=?UTF-8?Q?x?=@x.org>", "=?UTF-8?Q?x?=@x.org");
  /* a malformed word stays literal and unquoted */
  check_address_field ("Bcc: =?UTF-8?B?###?= <j@x.org>\n\n", "=?UTF-8?B?###?= <j@x.org>", "j@x.org");

  {
    g_autoptr (MsHeaderView) view = view_of ("fRoM: =?UTF-8?B?SsO2cmc=?= <j@x.org>\n"
                                             "Subject: =?UTF-8?B?SsO2cmc=?= <j@x.org>\n\n", -1);

    /* the field name decides, in any case; other fields decode plainly */
    g_assert_cmpstr (ms_header_view_get_first (view, "From"), ==, "\"Jörg\" <j@x.org>");
    g_assert_cmpstr (ms_header_view_get_first (view, "Subject"), ==, "Jörg <j@x.org>");
    g_assert_cmpstr (ms_header_view_get_raw (view, 0), ==, "=?UTF-8?B?SsO2cmc=?= <j@x.org>");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/header/unfold", test_unfold);
  g_test_add_func ("/header/trim", test_trim);
  g_test_add_func ("/header/duplicates", test_duplicates);
  g_test_add_func ("/header/case-insensitive", test_case_insensitive);
  g_test_add_func ("/header/nul-bytes", test_nul_bytes);
  g_test_add_func ("/header/8bit", test_8bit);
  g_test_add_func ("/header/ignored-lines", test_ignored_lines);
  g_test_add_func ("/header/bare-cr", test_bare_cr);
  g_test_add_func ("/header/no-separator", test_no_separator);
  g_test_add_func ("/header/empty", test_empty);
  g_test_add_func ("/header/size", test_size);
  g_test_add_func ("/header/mbox-from", test_mbox_from);
  g_test_add_func ("/header/long-line", test_long_line);
  g_test_add_func ("/header/max-bytes", test_max_bytes);
  g_test_add_func ("/header/max-fields", test_max_fields);
  g_test_add_func ("/header/address-fields", test_address_fields);
  g_test_add_func ("/rfc2047/latin1", test_rfc2047_latin1);
  g_test_add_func ("/rfc2047/utf8", test_rfc2047_utf8);
  g_test_add_func ("/rfc2047/q-underscore", test_rfc2047_underscore);
  g_test_add_func ("/rfc2047/iso-2022-jp", test_rfc2047_iso2022jp);
  g_test_add_func ("/rfc2047/adjacent", test_rfc2047_adjacent);
  g_test_add_func ("/rfc2047/malformed", test_rfc2047_malformed);
  return g_test_run ();
}
