/* Unit tests of mailsift's own Sieve engine: lexer, parser, validator
 * diagnostics (with columns), and the interpreter's action rules. The
 * behaviour against Pigeonhole is checked by tests/diff-pigeonhole.py. */
#include "sieve-interp.h"
#include "sieve-script.h"

#include <string.h>

static const char MESSAGE[] = "Return-Path: <alice@example.org>\r\n"
                              "From: Alice <alice@example.org>\r\n"
                              "To: Me <me+lists@example.org>, Bob <bob@example.net>\r\n"
                              "Cc: carol@example.com\r\n"
                              "Subject: [dev] Hello there\r\n"
                              "X-Spam: 7\r\n"
                              "X-Spam: 12\r\n"
                              "\r\n"
                              "body\r\n";

/* Compile @script; with @want_error, assert that error text appears. */
static MsSvScript *
compile (const char *script)
{
  return ms_sv_script_compile (script, strlen (script), "t.sieve");
}

static void
assert_error (const char *script, const char *want)
{
  g_autoptr (MsSvScript) s = compile (script);
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

/* Run @script on MESSAGE; return the actions as mailsift test prints
 * them, one per line, after ms_filter_result_finish. */
static char *
run (const char *script)
{
  g_autoptr (MsSvScript) s = compile (script);
  g_autoptr (GBytes) header = g_bytes_new_static (MESSAGE, sizeof MESSAGE - 1);
  MsFilterRequest req = {
    .mode = MS_FILTER_EXECUTE,
    .script_path = "t.sieve",
    .header = header,
    .size = sizeof MESSAGE - 1,
    .envelope_from = "alice@example.org",
    .envelope_to = "me+lists@example.org",
    .subaddress_separator = "+",
  };
  g_autoptr (MsFilterResult) r = ms_filter_result_new ();
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < s->errors->len; i++)
    g_test_message ("compile error: %s", (char *) s->errors->pdata[i]);
  g_assert_cmpuint (s->errors->len, ==, 0);
  r->complete = TRUE;
  ms_sv_execute (s, &req, r);
  ms_filter_result_finish (r);
  for (guint i = 0; i < r->actions->len; i++)
    {
      g_autofree char *line = ms_action_format (r->actions->pdata[i]);
      g_string_append_printf (out, "%s\n", line);
    }
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
test_diagnostics (void)
{
  assert_error ("filein \"x\";", "1:1: error: unknown command 'filein' (did you mean 'fileinto'?)");
  assert_error ("require \"fileinto\";\nif true {\n  fileinto :copy \"x\";\n}", "3:12: error: tag ':copy' needs require \"copy\"");
  assert_error ("keep", "1:5: error: missing ';' after the command 'keep'");
  assert_error ("if header :is \"a\" { keep; }", "1:4: error: 'header' is missing an argument");
  assert_error ("if header :is :contains \"a\" \"b\" { keep; }", "1:15: error: ':is' and ':contains' cannot be used together");
  assert_error ("require \"nosuch\";", "1:9: error: unsupported extension \"nosuch\"");
  assert_error ("keep;\nrequire \"fileinto\";", "2:1: error: require must come before every other command");
  assert_error ("if true { keep; }\nelse keep;", "'else' needs a block");
  assert_error ("elsif true { keep; }", "'elsif' must follow 'if' or 'elsif'");
  assert_error ("\"x\";", "1:1: error: expected a command, found a string");
  assert_error ("/* open", "unterminated comment");
  assert_error ("keep; \"abc", "unterminated string");
  assert_error ("if header :comparator \"i;nosuch\" \"a\" \"b\" { keep; }", "unknown comparator \"i;nosuch\"");
  assert_error ("if header :comparator \"i;ascii-numeric\" \"a\" \"b\" { keep; }",
                "needs require \"comparator-i;ascii-numeric\"");
  assert_error ("require \"relational\";\nif header :value \"xx\" \"a\" \"b\" { keep; }", "unknown relation \"xx\"");
  assert_error ("require \"regex\";\nif header :regex \"a\" \"(\" { keep; }", "bad regular expression");
  assert_error ("redirect \"a b@c\";", "invalid address");
  /* a display name is allowed, a second address or a line break is not */
  assert_error ("redirect \"x@example.org <a@example.org>\";", "invalid address");
  assert_error ("redirect \"A <a@example.org>, B <b@example.org>\";", "invalid address");
  assert_error ("redirect \"A\r\nRCPT TO:<a@example.org>\";", "invalid address");
  assert_error ("if size 10 { keep; }", "size needs :over or :under");
  assert_error ("if exists \"a\" keep;", "'exists' takes no test");
  assert_error ("stop \"x\";", "too many arguments for 'stop'");
  assert_error ("if keep { stop; }", "'keep' is a command, not a test");
  assert_error ("true;", "'true' is a test, not a command");
  assert_error ("keep; 99999999999999999999999;", "number too large");
}

static void
test_all_errors_in_one_pass (void)
{
  g_autoptr (MsSvScript) s = compile ("filein \"a\";\nkeep\nfoo;\nif header :bad \"a\" \"b\" { discrad; }\n");

  /* every problem, in script order */
  g_assert_cmpuint (s->errors->len, >=, 3);
  g_assert_true (g_str_has_prefix (s->errors->pdata[0], "1:1: "));
  for (guint i = 1; i < s->errors->len; i++)
    g_assert_cmpint (g_ascii_strtoull (s->errors->pdata[i - 1], NULL, 10), <=,
                     g_ascii_strtoull (s->errors->pdata[i], NULL, 10));
}

static void
test_nesting_limit (void)
{
  GString *deep = g_string_new (NULL);

  for (int i = 0; i < 200; i++)
    g_string_append (deep, "if true {");
  for (int i = 0; i < 200; i++)
    g_string_append (deep, "}");
  assert_error (deep->str, "blocks nested deeper than");
  g_string_truncate (deep, 0);
  g_string_append (deep, "if ");
  for (int i = 0; i < 5000; i++)
    g_string_append (deep, "not ");
  g_string_append (deep, "true { keep; }");
  assert_error (deep->str, "tests nested deeper than");
  g_string_free (deep, TRUE);
}

static void
test_strings (void)
{
  /* escapes; identifiers are case-insensitive */
  assert_run ("require \"fileinto\";\nFileInto \"a\\\"b\\\\c\\d\";", "fileinto \"a\\\"b\\\\cd\"\n");
  /* text: with dot-stuffing, and a hash comment after text: */
  assert_run ("require \"reject\";\nreject text: # why\nline one\n..dot\n.\n;", "reject \"line one\\n.dot\\n\"\n");
  /* encoded-character */
  assert_run ("require [\"fileinto\", \"encoded-character\"];\nfileinto \"${hex:41 42}${unicode:263a}x${hex:zz}\";",
              "fileinto \"AB\xe2\x98\xbax${hex:zz}\"\n");
  /* without the extension the text stays */
  assert_run ("require \"fileinto\";\nfileinto \"${hex:41}\";", "fileinto \"${hex:41}\"\n");
  /* a NUL byte in a script is an error, not a truncated script */
  {
    g_autoptr (MsSvScript) s = ms_sv_script_compile ("keep;\0discard;", 14, "t.sieve");
    g_assert_cmpuint (s->errors->len, ==, 1);
    g_assert_nonnull (strstr (s->errors->pdata[0], "NUL"));
  }
}

static void
test_tests (void)
{
  assert_run ("require \"fileinto\";\nif header :contains \"subject\" \"HELLO\" { fileinto \"a\"; }", "fileinto \"a\"\n");
  assert_run ("require \"fileinto\";\nif header :comparator \"i;octet\" :contains \"subject\" \"HELLO\" { fileinto \"a\"; }", "keep\n");
  assert_run ("require \"fileinto\";\nif address :domain \"to\" \"example.net\" { fileinto \"a\"; }", "fileinto \"a\"\n");
  assert_run ("require [\"fileinto\", \"subaddress\"];\nif address :detail \"to\" \"lists\" { fileinto \"a\"; }", "fileinto \"a\"\n");
  assert_run ("require [\"fileinto\", \"envelope\", \"subaddress\"];\nif envelope :user \"to\" \"me\" { fileinto \"a\"; }", "fileinto \"a\"\n");
  assert_run ("require \"fileinto\";\nif allof (exists \"cc\", not exists \"bcc\", size :under 1K) { fileinto \"a\"; }", "fileinto \"a\"\n");
  assert_run ("require \"fileinto\";\nif anyof (false, header :matches \"subject\" \"*there\") { fileinto \"a\"; }", "fileinto \"a\"\n");
  /* relational :count over every listed header and address */
  assert_run ("require [\"fileinto\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
              "if address :count \"eq\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] \"3\" { fileinto \"a\"; }",
              "fileinto \"a\"\n");
  assert_run ("require [\"fileinto\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
              "if header :value \"gt\" :comparator \"i;ascii-numeric\" \"x-spam\" \"10\" { fileinto \"a\"; }",
              "fileinto \"a\"\n");
  /* :index */
  assert_run ("require [\"fileinto\", \"index\"];\nif header :index 2 :is \"x-spam\" \"12\" { fileinto \"a\"; }", "fileinto \"a\"\n");
  assert_run ("require [\"fileinto\", \"index\"];\nif header :index 1 :last :is \"x-spam\" \"12\" { fileinto \"a\"; }", "fileinto \"a\"\n");
  /* if / elsif / else */
  assert_run ("require \"fileinto\";\nif false { fileinto \"a\"; } elsif true { fileinto \"b\"; } else { fileinto \"c\"; }",
              "fileinto \"b\"\n");
  assert_run ("require \"fileinto\";\nif false { fileinto \"a\"; } elsif false { fileinto \"b\"; } else { fileinto \"c\"; }",
              "fileinto \"c\"\n");
}

static void
test_variables (void)
{
  assert_run ("require [\"fileinto\", \"variables\"];\n"
              "if header :matches \"subject\" \"[*] *\" { fileinto \"Lists.${1}\"; }",
              "fileinto \"Lists.dev\"\n");
  assert_run ("require [\"fileinto\", \"variables\"];\n"
              "set :upperfirst :lower \"a\" \"hELLO\"; set :length \"n\" \"${a}\"; set :quotewildcard \"q\" \"a*b?\\\\\";"
              "fileinto \"${a}-${n}-${q}-${unknown}-${1}\";",
              "fileinto \"Hello-5-a\\\\*b\\\\?\\\\\\\\--\"\n");
  assert_run ("require [\"fileinto\", \"variables\"];\n"
              "set \"x\" \"abc\"; if string :is \"${x}\" \"abc\" { fileinto \"yes\"; }",
              "fileinto \"yes\"\n");
  assert_run ("require [\"fileinto\", \"variables\", \"regex\"];\n"
              "if header :regex \"from\" \"^([a-z]+) <([a-z]+)@\" { fileinto \"${1}.${2}\"; }",
              "fileinto \"Alice.alice\"\n");
}

static void
test_actions (void)
{
  /* implicit keep: cancelled by fileinto, kept by :copy, flags follow */
  assert_run ("require [\"fileinto\", \"copy\"];\nfileinto :copy \"a\";", "fileinto \"a\"\nkeep\n");
  assert_run ("require \"copy\";\nredirect :copy \"x@example.com\";", "redirect \"x@example.com\"\nkeep\n");
  assert_run ("redirect \"Assistant <x@example.com>\";", "redirect \"x@example.com\"\n");
  assert_run ("require \"imap4flags\";\naddflag \"\\\\Seen Work\";\nremoveflag \"work\";", "keep flags=\\Seen\n");
  assert_run ("require \"imap4flags\";\nsetflag [\"\\\\Flagged\", \"\\\\Seen\"];", "keep flags=\\Flagged,\\Seen\n");
  assert_run ("require [\"imap4flags\", \"fileinto\"];\naddflag \"a\"; fileinto :flags \"b\" \"F\"; fileinto \"G\";",
              "fileinto \"F\" flags=b\nfileinto \"G\" flags=a\n");
  assert_run ("require \"imap4flags\";\naddflag \"a\";\nif hasflag :is \"A\" { discard; }", "discard\n");
  assert_run ("discard;", "discard\n");
  assert_run ("discard; keep;", "keep\n");
  assert_run ("keep; keep;", "keep\n");
  /* reject conflicts are a runtime error: keep */
  assert_run ("require [\"reject\", \"fileinto\"];\nfileinto \"a\"; reject \"no\";",
              "keep\nfailed: 2:15: runtime error: reject cannot be combined with fileinto (RFC 5429)\n");
  assert_run ("require \"reject\";\nreject \"no\";", "reject \"no\"\n");
  /* stop */
  assert_run ("require \"fileinto\";\nfileinto \"a\"; stop; fileinto \"b\";", "fileinto \"a\"\n");
}

/* A line break (or another control character) in a string that goes into
 * the header of a vacation reply or a notification would add header
 * fields of its own (a Bcc: to anyone): refused at compile time with
 * line:column when the string is constant, as a runtime error (the
 * message is kept) when it comes from a variable. */
static void
test_reply_header_fields (void)
{
  assert_error ("require \"vacation\";\nvacation :from \"a\r\nBcc: v@x\" \"away\";",
                "2:16: error: vacation :from \"a\\r\\nBcc: v@x\" is refused: it contains a line break "
                "(CR or LF); it must be one line of text");
  assert_error ("require \"vacation\";\nvacation :from \"a\nBcc: v@x\" \"away\";", "2:16: error: vacation :from");
  assert_error ("require \"vacation\";\nvacation :subject \"Away\rBcc: v@x\" \"away\";",
                "2:19: error: vacation :subject");
  assert_error ("require \"vacation\";\nvacation :handle \"h\nx\" \"away\";", "2:18: error: vacation :handle");
  assert_error ("require \"vacation\";\nvacation :addresses [\"me@example.org\", \"a\n@b\"] \"away\";",
                "2:21: error: vacation :addresses \"a\\n@b\" is refused");
  assert_error ("require \"vacation\";\nvacation :from \"a\x01@example.org\" \"away\";",
                "vacation :from \"a\\001@example.org\" is refused: it contains a control character");
  assert_error ("require \"enotify\";\nnotify :from \"a\nBcc: v@x\" \"mailto:b@example.org\";",
                "2:14: error: notify :from");
  assert_error ("require \"enotify\";\nnotify \"mailto:b@example.org\nBcc: v@x\";", "2:8: error: notify method");
  assert_error ("require \"notify\";\nnotify :method \"mailto:b@example.org\nBcc: v@x\";",
                "2:16: error: notify :method");
  /* a tab is text in a subject, and the reason (the body) may hold line breaks */
  assert_run ("require \"vacation\";\nvacation :subject \"Away\tnow\" \"line 1\nline 2\";",
              "vacation to=\"alice@example.org\" subject=\"Away\\tnow\" days=0\nkeep\n");

  assert_run ("require [\"vacation\", \"variables\"];\nset \"f\" \"a\r\nBcc: v@x\";\n"
              "vacation :from \"${f}\" \"away\";",
              "keep\nfailed: 4:1: runtime error: vacation :from \"a\\r\\nBcc: v@x\" is refused: it contains "
              "a line break (CR or LF); it must be one line of text\n");
  assert_run ("require [\"vacation\", \"variables\"];\nset \"s\" \"x\nBcc: v@x\";\n"
              "vacation :subject \"Re: ${s}\" \"away\";",
              "keep\nfailed: 4:1: runtime error: vacation :subject \"Re: x\\nBcc: v@x\" is refused: it "
              "contains a line break (CR or LF); it must be one line of text\n");
  assert_run ("require [\"vacation\", \"variables\"];\nset \"a\" \"x\n@y\";\n"
              "vacation :addresses [\"${a}\"] \"away\";",
              "keep\nfailed: 4:1: runtime error: vacation :addresses \"x\\n@y\" is refused: it contains a "
              "line break (CR or LF); it must be one line of text\n");
  assert_run ("require [\"enotify\", \"variables\"];\nset \"f\" \"a\nBcc: v@x\";\n"
              "notify :from \"${f}\" \"mailto:b@example.org\";",
              "keep\nfailed: 4:1: runtime error: notify :from \"a\\nBcc: v@x\" is refused: it contains a line "
              "break (CR or LF); it must be one line of text\n");
  assert_run ("require [\"enotify\", \"variables\"];\nset \"t\" \"b@example.org\nBcc: v@x\";\n"
              "notify \"mailto:${t}\";",
              "keep\nfailed: 4:1: runtime error: notify method \"mailto:b@example.org\\nBcc: v@x\" is "
              "refused: it contains a line break (CR or LF); it must be one line of text\n");
}

static void
test_action_limit (void)
{
  GString *s = g_string_new ("require \"fileinto\";\n");
  g_autofree char *got = NULL;

  for (int i = 0; i < 40; i++)
    g_string_append_printf (s, "fileinto \"f%d\";\n", i);
  got = run (s->str);
  g_assert_true (g_str_has_prefix (got, "keep\nfailed: 34:1: runtime error: more than 32 actions"));
  g_string_free (s, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sieve/diagnostics", test_diagnostics);
  g_test_add_func ("/sieve/all-errors-in-one-pass", test_all_errors_in_one_pass);
  g_test_add_func ("/sieve/nesting-limit", test_nesting_limit);
  g_test_add_func ("/sieve/strings", test_strings);
  g_test_add_func ("/sieve/tests", test_tests);
  g_test_add_func ("/sieve/variables", test_variables);
  g_test_add_func ("/sieve/actions", test_actions);
  g_test_add_func ("/sieve/reply-header-fields", test_reply_header_fields);
  g_test_add_func ("/sieve/action-limit", test_action_limit);
  return g_test_run ();
}
