/* Unit tests of the body (RFC 5173) and MIME part (RFC 5703: mime,
 * foreverypart, extracttext) extensions of mailsift's Sieve engine, on
 * multipart messages written to temporary files, as the filter process
 * gets them (MsFilterRequest.message_path). */
#include "sieve-interp.h"
#include "sieve-mime.h"
#include "sieve-script.h"

#include <glib/gstdio.h>
#include <string.h>

/* multipart/mixed: a multipart/alternative (quoted-printable latin1
 * text, base64 UTF-8 HTML), a message/rfc822, a base64 attachment */
static const char NESTED[] =
  "From: Alice <alice@example.org>\n"
  "To: me@example.org\n"
  "Subject: nested\n"
  "MIME-Version: 1.0\n"
  "Content-Type: multipart/mixed; boundary=\"outer\"\n"
  "\n"
  "The prologue.\n"
  "--outer\n"
  "Content-Type: multipart/alternative; boundary=inner\n"
  "\n"
  "--inner\n"
  "Content-Type: text/plain; charset=ISO-8859-1\n"
  "Content-Transfer-Encoding: quoted-printable\n"
  "\n"
  "Caf=E9 cr=E8me, soft=\n"
  " break.\n"
  "--inner\n"
  "Content-Type: text/html; charset=utf-8\n"
  "Content-Transfer-Encoding: base64\n"
  "\n"
  /* <p>Hello <b>W&ouml;rld</b> &amp; <i>friends</i></p><script>secret()</script> */
  "PHA+SGVsbG8gPGI+V8O2cmxkPC9iPiAmYW1wOyA8aT5mcmllbmRzPC9pPjwvcD48c2NyaXB0PnNl\n"
  "Y3JldCgpPC9zY3JpcHQ+\n"
  "--inner--\n"
  "--outer\n"
  "Content-Type: message/rfc822\n"
  "\n"
  "From: Bob <bob@example.net>\n"
  "Subject: forwarded one\n"
  "X-Inner: yes\n"
  "\n"
  "The forwarded text.\n"
  "--outer\n"
  "Content-Type: application/pdf; name=\"report.pdf\"\n"
  "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\n"
  "Content-Transfer-Encoding: base64\n"
  "\n"
  "JVBERi0xLjQgc2VjcmV0\n"
  "--outer--\n"
  "The epilogue.\n";

static const char PLAIN[] = "From: a@example.org\n"
                            "Subject: plain\n"
                            "\n"
                            "Just some text, money money.\n";

static const char NO_BODY[] = "From: a@example.org\n"
                              "Subject: header only\n";

typedef struct {
  char *out;       /* actions, one per line, and "failed: ..." */
  gboolean needs_body;
} Outcome;

/* Run @script on @message (written to a file; with @header_only the
 * filter gets no message file, as after a header-only fetch). */
static char *
run_full (const char *script, const char *message, gboolean header_only, gboolean *needs_body_out)
{
  g_autoptr (MsSvScript) s = ms_sv_script_compile (script, strlen (script), "t.sieve");
  g_autoptr (GBytes) header = g_bytes_new (message, strlen (message));
  g_autoptr (GError) error = NULL;
  g_autoptr (MsFilterResult) r = ms_filter_result_new ();
  g_autofree char *path = NULL;
  GString *out = g_string_new (NULL);
  int fd = g_file_open_tmp ("mailsift-body-XXXXXX", &path, &error);
  MsFilterRequest req = {
    .mode = MS_FILTER_EXECUTE,
    .script_path = "t.sieve",
    .header = header,
    .size = strlen (message),
    .envelope_from = "alice@example.org",
    .envelope_to = "me@example.org",
    .subaddress_separator = "+",
  };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, message, -1, &error));
  close (fd);
  req.message_path = header_only ? NULL : path;
  for (guint i = 0; i < s->errors->len; i++)
    g_test_message ("compile error: %s", (char *) s->errors->pdata[i]);
  g_assert_cmpuint (s->errors->len, ==, 0);
  if (needs_body_out)
    *needs_body_out = s->needs_body;
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
  g_unlink (path);
  return g_string_free (out, FALSE);
}

static void
assert_run (const char *script, const char *message, const char *want)
{
  g_autofree char *got = run_full (script, message, FALSE, NULL);

  if (strcmp (got, want) != 0)
    g_test_fail_printf ("script:\n%s\ngot:\n%swant:\n%s", script, got, want);
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

#define REQ_BODY "require [\"body\", \"fileinto\"];\n"

static void
test_text (void)
{
  /* quoted-printable latin1, soft line break, converted to UTF-8 */
  assert_run (REQ_BODY "if body :text :contains \"Café crème, soft break.\" { fileinto \"a\"; }", NESTED,
              "fileinto \"a\"\n");
  /* base64 HTML: decoded, markup and script gone, entities decoded */
  assert_run (REQ_BODY "if body :contains \"Hello Wörld & friends\" { fileinto \"a\"; }", NESTED,
              "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :contains \"secret\" { fileinto \"a\"; }", NESTED, "keep\n");
  assert_run (REQ_BODY "if body :contains \"<b>\" { fileinto \"a\"; }", NESTED, "keep\n");
  /* the text of the enclosed message counts; its header, the
   * prologue and the attachment do not */
  assert_run (REQ_BODY "if body :contains \"forwarded text\" { fileinto \"a\"; }", NESTED, "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :contains [\"forwarded one\", \"prologue\", \"%PDF\"] { fileinto \"a\"; }",
              NESTED, "keep\n");
  /* each part is one value: no match across parts */
  assert_run (REQ_BODY "if body :matches \"Caf*friends\" { fileinto \"a\"; }", NESTED, "keep\n");
  assert_run (REQ_BODY "if body :is \"Just some text, money money.\n\" { fileinto \"a\"; }", PLAIN,
              "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :comparator \"i;octet\" :contains \"MONEY\" { fileinto \"a\"; }", PLAIN,
              "keep\n");
  /* relational :count counts the text parts */
  assert_run ("require [\"body\", \"fileinto\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
              "if body :count \"eq\" :comparator \"i;ascii-numeric\" \"3\" { fileinto \"three\"; }",
              NESTED, "fileinto \"three\"\n");
}

static void
test_empty_parts (void)
{
  /* empty text and HTML parts are empty strings (found by the fuzzer) */
  static const char empty[] = "From: a@example.org\n"
                              "Content-Type: multipart/mixed; boundary=e\n"
                              "\n"
                              "--e\n"
                              "Content-Type: text/html\n"
                              "\n"
                              "--e\n"
                              "Content-Type: text/plain; charset=iso-8859-1\n"
                              "\n"
                              "--e--\n";

  assert_run (REQ_BODY "if body :is \"\" { fileinto \"a\"; }", empty, "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :content \"text/plain\" :is \"\" { fileinto \"a\"; }", empty,
              "fileinto \"a\"\n");
}

static void
test_raw (void)
{
  /* undecoded, MIME structure included, the message header not */
  assert_run (REQ_BODY "if body :raw :contains \"Caf=E9\" { fileinto \"a\"; }", NESTED, "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :raw :contains \"--inner--\" { fileinto \"a\"; }", NESTED, "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :raw :contains \"Café\" { fileinto \"a\"; }", NESTED, "keep\n");
  assert_run (REQ_BODY "if body :raw :contains \"Subject: nested\" { fileinto \"a\"; }", NESTED, "keep\n");
  assert_run (REQ_BODY "if body :raw :is \"Just some text, money money.\n\" { fileinto \"a\"; }", PLAIN,
              "fileinto \"a\"\n");
}

static void
test_content (void)
{
  /* a type, a type/subtype, "" for all */
  assert_run (REQ_BODY "if body :content \"text/plain\" :contains \"Café\" { fileinto \"a\"; }", NESTED,
              "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :content \"text/html\" :contains \"Café\" { fileinto \"a\"; }", NESTED, "keep\n");
  /* :content keeps the markup */
  assert_run (REQ_BODY "if body :content \"text/html\" :contains \"<b>Wörld</b>\" { fileinto \"a\"; }", NESTED,
              "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :content \"application\" :contains \"%PDF-1.4 secret\" { fileinto \"a\"; }",
              NESTED, "fileinto \"a\"\n");
  /* a multipart: its prologue and epilogue only */
  assert_run (REQ_BODY "if body :content \"multipart\" :contains \"The prologue.\" { fileinto \"a\"; }", NESTED,
              "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :content \"multipart/mixed\" :contains \"The epilogue.\" { fileinto \"a\"; }",
              NESTED, "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :content \"multipart\" :contains \"Café\" { fileinto \"a\"; }", NESTED, "keep\n");
  /* message/rfc822: the enclosed header, not its body */
  assert_run (REQ_BODY "if body :content \"message/rfc822\" :contains \"X-Inner: yes\" { fileinto \"a\"; }",
              NESTED, "fileinto \"a\"\n");
  assert_run (REQ_BODY "if body :content \"message/rfc822\" :contains \"forwarded text\" { fileinto \"a\"; }",
              NESTED, "keep\n");
  assert_run (REQ_BODY "if body :content \"\" :contains \"forwarded text\" { fileinto \"a\"; }", NESTED,
              "fileinto \"a\"\n");
  /* types that match nothing (RFC 5173 5.2) */
  assert_run (REQ_BODY "if body :content [\"/plain\", \"text/\", \"text/plain/x\", \"image\"] :contains \"\" "
              "{ fileinto \"a\"; }",
              NESTED, "keep\n");
  /* a plain message is one text/plain part */
  assert_run (REQ_BODY "if body :content \"text\" :contains \"money\" { fileinto \"a\"; }", PLAIN,
              "fileinto \"a\"\n");
}

static void
test_no_body (void)
{
  gboolean needs_body = FALSE;
  g_autofree char *got = NULL;

  /* a header with no empty line after it has no body: false, even for "" */
  assert_run (REQ_BODY "if body :contains \"\" { fileinto \"a\"; }", NO_BODY, "keep\n");
  assert_run (REQ_BODY "if body :raw :contains \"\" { fileinto \"a\"; }", NO_BODY, "keep\n");
  assert_run (REQ_BODY "if not body :content \"\" :contains \"\" { fileinto \"a\"; }", NO_BODY,
              "fileinto \"a\"\n");
  /* without the message file a body test is an error, never false: the
   * message is kept */
  got = run_full (REQ_BODY "if not body :contains \"x\" { discard; }", PLAIN, TRUE, &needs_body);
  g_assert_true (needs_body);
  g_assert_nonnull (strstr (got, "keep\nfailed: "));
  g_assert_nonnull (strstr (got, "body test needs the whole message"));
  g_clear_pointer (&got, g_free);
  got = run_full ("require \"foreverypart\"; foreverypart { discard; }", PLAIN, TRUE, NULL);
  g_assert_nonnull (strstr (got, "foreverypart needs the whole message"));
  g_clear_pointer (&got, g_free);
  got = run_full (REQ_BODY "if body :raw :contains \"x\" { discard; }", PLAIN, TRUE, NULL);
  g_assert_nonnull (strstr (got, "body test needs the whole message"));
  /* the message's own header needs no body: :mime without :anychild */
  g_clear_pointer (&got, g_free);
  got = run_full ("require [\"mime\", \"fileinto\"];"
                  "if header :mime :type \"Content-Type\" \"multipart\" { fileinto \"m\"; }",
                  NESTED, TRUE, &needs_body);
  g_assert_false (needs_body);
  g_assert_cmpstr (got, ==, "fileinto \"m\"\n");
}

static void
test_needs_body (void)
{
  static const struct {
    const char *script;
    gboolean needs;
  } cases[] = {
    { "require \"fileinto\"; if header :contains \"subject\" \"x\" { fileinto \"a\"; }", FALSE },
    { "require \"body\"; if body :contains \"x\" { discard; }", TRUE },
    { "require \"body\";", FALSE },
    { "require \"foreverypart\"; foreverypart { }", TRUE },
    { "require [\"variables\", \"foreverypart\", \"extracttext\"]; foreverypart { extracttext \"x\"; }", TRUE },
    { "require \"mime\"; if exists :mime :anychild \"x\" { discard; }", TRUE },
    { "require \"mime\"; if header :mime :param \"charset\" \"content-type\" \"x\" { discard; }", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MsSvScript) s = ms_sv_script_compile (cases[i].script, strlen (cases[i].script), "t.sieve");
      g_assert_cmpuint (s->errors->len, ==, 0);
      if (s->needs_body != cases[i].needs)
        g_test_fail_printf ("needs_body %d for %s", s->needs_body, cases[i].script);
    }
}

static void
test_match_variables (void)
{
  /* RFC 5173 6: body :matches sets no ${1} */
  assert_run ("require [\"body\", \"variables\", \"fileinto\"];\n"
              "if header :matches \"subject\" \"p*n\" { }\n"
              "if body :matches \"Just * text*\" { fileinto \"${1}\"; }",
              PLAIN, "fileinto \"lai\"\n");
}

#define REQ_LOOP "require [\"foreverypart\", \"mime\", \"variables\", \"extracttext\", \"fileinto\"];\n"

static void
test_foreverypart (void)
{
  /* depth first, the message itself first, the enclosed message a part
   * of its own */
  assert_run (REQ_LOOP "foreverypart { set \"t\" \"none\"; "
              "if header :mime :matches :contenttype \"content-type\" \"*\" { set \"t\" \"${1}\"; } "
              "set \"s\" \"${s} ${t}\"; } fileinto \"${s}\";",
              NESTED,
              "fileinto \" multipart/mixed multipart/alternative text/plain text/html message/rfc822 "
              "none application/pdf\"\n");
  /* :subtype, :param (RFC 2231 decoded), Content-Disposition :type */
  assert_run (REQ_LOOP "foreverypart { if header :mime :matches :param \"filename\" \"content-disposition\" \"*\" "
              "{ fileinto \"${1}\"; } }",
              NESTED, "fileinto \"résumé.pdf\"\n");
  assert_run (REQ_LOOP "foreverypart { if header :mime :type \"content-disposition\" \"attachment\" "
              "{ fileinto \"att\"; } if header :mime :subtype \"content-disposition\" \"\" { set \"n\" \"${n}.\"; } }"
              "fileinto \"n${n}\";",
              NESTED, "fileinto \"att\"\nfileinto \"n.\"\n");
  /* only :mime looks at the current part */
  assert_run (REQ_LOOP "foreverypart { if header \"x-inner\" \"yes\" { fileinto \"wrong\"; } "
              "if header :mime \"x-inner\" \"yes\" { fileinto \"inner\"; } }",
              NESTED, "fileinto \"inner\"\n");
  /* nested loops see the parts below the outer one's */
  assert_run (REQ_LOOP "foreverypart { if header :mime :subtype \"content-type\" \"alternative\" { "
              "foreverypart { set \"n\" \"${n}i\"; } } } fileinto \"${n}\";",
              NESTED, "fileinto \"ii\"\n");
  /* break leaves the innermost loop, break :name the named one */
  assert_run (REQ_LOOP "foreverypart { set \"n\" \"${n}o\"; foreverypart { set \"n\" \"${n}i\"; break; } } "
              "fileinto \"${n}\";",
              NESTED, "fileinto \"oioioooioo\"\n");
  assert_run (REQ_LOOP "foreverypart :name \"all\" { set \"n\" \"${n}o\"; foreverypart "
              "{ set \"n\" \"${n}i\"; break :name \"all\"; } } fileinto \"${n}\";",
              NESTED, "fileinto \"oi\"\n");
  /* stop inside a loop stops the script */
  assert_run (REQ_LOOP "foreverypart { fileinto \"x\"; stop; } fileinto \"y\";", NESTED, "fileinto \"x\"\n");
  /* :anychild: the current part and everything below it */
  assert_run (REQ_LOOP "if header :mime :anychild \"subject\" \"forwarded one\" { fileinto \"any\"; }"
              "if address :mime :anychild :domain \"from\" \"example.net\" { fileinto \"addr\"; }",
              NESTED, "fileinto \"any\"\nfileinto \"addr\"\n");
  assert_run (REQ_LOOP "foreverypart { if header :mime :subtype \"content-type\" \"alternative\" { "
              "if exists :mime :anychild \"x-inner\" { fileinto \"wrong\"; } "
              "if header :mime :anychild :contains \"content-type\" \"html\" { fileinto \"html\"; } } }",
              NESTED, "fileinto \"html\"\n");
  /* a plain message is one part */
  assert_run (REQ_LOOP "foreverypart { set \"n\" \"${n}p\"; } fileinto \"${n}\";", PLAIN, "fileinto \"p\"\n");
}

static void
test_extracttext (void)
{
  assert_run (REQ_LOOP "foreverypart { if header :mime :subtype \"content-type\" \"plain\" { "
              "extracttext :first 4 \"t\"; break; } } fileinto \"${t}\";",
              NESTED, "fileinto \"Café\"\n");
  assert_run (REQ_LOOP "foreverypart { if header :mime :subtype \"content-type\" \"html\" { "
              "extracttext :upper \"t\"; } } fileinto \"${t}\";",
              NESTED, "fileinto \"HELLO WöRLD & FRIENDS\"\n");
  /* not text: "" */
  assert_run (REQ_LOOP "foreverypart { extracttext :length \"t\"; set \"n\" \"${n}${t},\"; break; } "
              "fileinto \"${n}\";",
              NESTED, "fileinto \"0,\"\n");
  /* "Café crème, soft break." (the enclosed message has no Content-Type) */
  assert_run (REQ_LOOP "foreverypart { if header :mime :subtype \"content-type\" \"plain\" { "
              "extracttext :length \"t\"; } } fileinto \"${t}\";",
              NESTED, "fileinto \"23\"\n");
}

static void
test_errors (void)
{
  assert_error ("require \"foreverypart\"; break;", "break outside foreverypart");
  assert_error ("require \"foreverypart\"; foreverypart :name \"a\" { break :name \"b\"; }",
                "no foreverypart of that name");
  assert_error ("require [\"foreverypart\", \"variables\"]; foreverypart :name \"${x}\" { }",
                "cannot use variables");
  assert_error ("require [\"variables\", \"extracttext\"]; extracttext \"x\";", "extracttext outside foreverypart");
  assert_error ("require [\"foreverypart\", \"extracttext\"]; foreverypart { extracttext \"x\"; }",
                "extracttext needs require \"variables\"");
  assert_error ("require \"mime\"; if header :anychild \"a\" \"b\" { }", "':anychild' needs ':mime'");
  assert_error ("require \"mime\"; if header :type \"a\" \"b\" { }", "':type' needs ':mime'");
  assert_error ("require \"mime\"; if header :mime :type :subtype \"a\" \"b\" { }", "cannot be used together");
  assert_error ("if header :mime \"a\" \"b\" { }", "needs require \"mime\"");
  assert_error ("require \"mime\"; if address :mime :type \"from\" \"b\" { }", "unknown tag ':type'");
  assert_error ("if body :contains \"x\" { }", "needs require \"body\"");
  assert_error ("require \"body\"; if body :raw :text \"x\" { }", "cannot be used together");
  assert_error ("require \"foreverypart\"; foreverypart;", "needs a block");
  /* a :name without its string (found by the fuzzer) */
  assert_error ("require \"foreverypart\"; foreverypart :name { break :name \"x\"; }", "needs a string");
}

/* A message of @n parts, each a small text part. */
static char *
many_parts (guint n)
{
  GString *m = g_string_new ("From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (m, "--b\nContent-Type: text/plain\n\npart %u\n", i);
  g_string_append (m, "--b--\n");
  return g_string_free (m, FALSE);
}

static void
test_limits (void)
{
  g_autofree char *many = many_parts (1200);
  g_autofree char *got = NULL;
  GString *big = g_string_new ("From: a@example.org\n\n");
  g_autoptr (GString) loop = g_string_new (NULL);

  /* at most MS_MIME_MAX_PARTS parts are looked at */
  assert_run ("require [\"body\", \"fileinto\"]; if body :contains \"part 998\" { fileinto \"a\"; }"
              "if body :contains \"part 999\" { fileinto \"b\"; }",
              many, "fileinto \"a\"\n");
  /* a loop over them runs into the step limit: an error, kept */
  g_string_append (loop, REQ_LOOP "foreverypart {");
  for (guint i = 0; i < 120; i++)
    g_string_append (loop, " set \"x\" \"y\";");
  g_string_append (loop, " }");
  got = run_full (loop->str, many, FALSE, NULL);
  g_assert_nonnull (strstr (got, "steps"));
  g_assert_nonnull (strstr (got, "keep\n"));
  /* text after MS_MIME_MAX_PART_TEXT bytes of a part is not looked at */
  while (big->len < MS_MIME_MAX_PART_TEXT + 100)
    g_string_append (big, "filler line of text\n");
  g_string_append (big, "NEEDLE\n");
  assert_run ("require [\"body\", \"fileinto\"]; if body :contains \"NEEDLE\" { fileinto \"a\"; }"
              "if body :raw :contains \"NEEDLE\" { fileinto \"b\"; }"
              "if body :contains \"filler\" { fileinto \"c\"; }",
              big->str, "fileinto \"c\"\n");
  g_string_free (big, TRUE);
}

static void
test_html_to_text (void)
{
  static const struct {
    const char *html, *text;
  } cases[] = {
    { "<p>One</p><p>Two</p>", "One\nTwo" },
    { "a<br>b", "a\nb" },
    { "<style>p { x }</style>Text<script>alert(1)</script> end", "Text end" },
    { "<!-- hidden -->&lt;tag&gt; &#233;&#xe9; &nbsp;x &bogus; &amp", "<tag> éé x &bogus; &amp" },
    { "<td>a</td><td>b</td>", "a b" },
    { "  lots \n\n of   space  ", "lots of space" },
    { "<unclosed", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = ms_mime_html_to_text (cases[i].html, strlen (cases[i].html));
      g_assert_cmpstr (got, ==, cases[i].text);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sieve-body/text", test_text);
  g_test_add_func ("/sieve-body/empty-parts", test_empty_parts);
  g_test_add_func ("/sieve-body/raw", test_raw);
  g_test_add_func ("/sieve-body/content", test_content);
  g_test_add_func ("/sieve-body/no-body", test_no_body);
  g_test_add_func ("/sieve-body/needs-body", test_needs_body);
  g_test_add_func ("/sieve-body/match-variables", test_match_variables);
  g_test_add_func ("/sieve-body/foreverypart", test_foreverypart);
  g_test_add_func ("/sieve-body/extracttext", test_extracttext);
  g_test_add_func ("/sieve-body/errors", test_errors);
  g_test_add_func ("/sieve-body/limits", test_limits);
  g_test_add_func ("/sieve-body/html-to-text", test_html_to_text);
  return g_test_run ();
}
