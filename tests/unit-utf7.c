/* Unit tests: IMAP modified UTF-7 (RFC 3501 5.1.3), the on-disk spelling
 * of Maildir++ folder names. */
#include "utf7.h"

#include <gio/gio.h>

/* Encode @utf8, expect @mutf7, and decode it back to @utf8. */
static void
check_round_trip (const char *utf8, const char *mutf7)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *encoded = ms_utf7_imap_encode (utf8);
  g_autofree char *decoded = NULL;

  g_assert_cmpstr (encoded, ==, mutf7);
  decoded = ms_utf7_imap_decode (mutf7, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (decoded, ==, utf8);
}

static void
test_ascii (void)
{
  check_round_trip ("", "");
  check_round_trip ("INBOX", "INBOX");
  check_round_trip ("Sent Items ~!#", "Sent Items ~!#");
  check_round_trip ("&", "&-");
  check_round_trip ("Tom & Jerry &&", "Tom &- Jerry &-&-");
}

static void
test_latin (void)
{
  check_round_trip ("Entwürfe", "Entw&APw-rfe");
  check_round_trip ("ü", "&APw-");
  check_round_trip ("Gelöschte Elemente", "Gel&APY-schte Elemente");
  /* RFC 3501's own example */
  check_round_trip ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  check_round_trip ("日本語", "&ZeVnLIqe-");
  /* an encoded run then '&': the run must be closed first */
  check_round_trip ("é&", "&AOk-&-");
  /* control characters are not printable, so they are encoded */
  check_round_trip ("a\tb", "a&AAk-b");
}

static void
test_surrogates (void)
{
  /* U+1F600 is D83D DE00 in UTF-16 */
  check_round_trip ("\xF0\x9F\x98\x80", "&2D3eAA-");
  check_round_trip ("a\xF0\x9F\x98\x80" "b", "a&2D3eAA-b");
  check_round_trip ("ä\xF0\x9F\x98\x80" "ö", "&AOTYPd4AAPY-");
  /* U+10FFFF, the last code point: DBFF DFFF */
  check_round_trip ("\xF4\x8F\xBF\xBF", "&2,,f,w-");
}

static void
test_encode_invalid (void)
{
  g_assert_null (ms_utf7_imap_encode ("\xff"));
  g_assert_null (ms_utf7_imap_encode ("ab\xc3"));
  /* CESU-style encoded surrogate */
  g_assert_null (ms_utf7_imap_encode ("\xED\xA0\x80"));
}

static void
check_rejected (const char *mutf7)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *decoded = ms_utf7_imap_decode (mutf7, &error);

  if (decoded != NULL)
    g_test_message ("\"%s\" decoded to \"%s\"", mutf7, decoded);
  g_assert_null (decoded);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (error->message);
}

static void
test_decode_malformed (void)
{
  check_rejected ("&");            /* unterminated */
  check_rejected ("a&APw");        /* unterminated */
  check_rejected ("&APw");         /* unterminated */
  check_rejected ("&AP!-");        /* not base64 */
  check_rejected ("&AP/-");        /* '/' is plain base64, not modified */
  check_rejected ("&APw=-");       /* no '=' padding in modified base64 */
  check_rejected ("&AGE-");        /* "a" must not be encoded */
  check_rejected ("&ACY-");        /* nor "&" */
  check_rejected ("&APx-");        /* non-zero padding bits */
  check_rejected ("&APwA-");       /* 8 spare bits: a truncated unit */
  check_rejected ("&A-");          /* too short for one unit */
  check_rejected ("&2D0-");        /* high surrogate alone */
  check_rejected ("&2D0AYQ-");     /* high surrogate then not a low one */
  check_rejected ("&3gA-");        /* low surrogate alone */
  check_rejected ("&AAA-");        /* NUL */
  check_rejected ("Entw\xc3\xbc" "rfe"); /* raw 8-bit */
  check_rejected ("a\tb");         /* raw control character */
  check_rejected ("&AOk-&AOk-");   /* two runs where one would do */
}

static void
test_decode_null_error (void)
{
  /* a NULL GError is allowed: the NULL return is the signal */
  g_assert_null (ms_utf7_imap_decode ("&Jjo", NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/utf7/ascii", test_ascii);
  g_test_add_func ("/utf7/latin-and-cjk", test_latin);
  g_test_add_func ("/utf7/surrogate-pairs", test_surrogates);
  g_test_add_func ("/utf7/encode-invalid-utf8", test_encode_invalid);
  g_test_add_func ("/utf7/decode-malformed", test_decode_malformed);
  g_test_add_func ("/utf7/decode-null-error", test_decode_null_error);
  return g_test_run ();
}
