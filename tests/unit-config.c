/* Unit tests: the config key table, validation and its messages. */
#include "config.h"
#include "error.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
write_config (const char *text, int mode)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-config-XXXXXX", NULL);
  char *path = g_build_filename (dir, "config", NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_no_errno (g_chmod (path, mode));
  return path;
}

static void
test_defaults (void)
{
  g_autoptr (MsConfig) c = ms_config_new_default ();
  g_autofree char *maildir = g_build_filename (g_get_home_dir (), "Maildir", NULL);

  g_assert_cmpstr (c->maildir, ==, maildir);
  g_assert_null (c->script);
  g_assert_cmpstr (c->subaddress_separator, ==, "+");
  g_assert_cmpstr (c->folder_separator, ==, ".");
  g_assert_cmpint (c->filter_timeout, ==, 5);
  g_assert_false (c->dedupe_message_id);
  g_assert_true (g_str_has_suffix (c->state_dir, "/mailsift"));
  /* every key has help text for the man page and check */
  for (const MsConfigKey *k = ms_config_keys; k->name; k++)
    g_assert_true (k->help != NULL && strlen (k->help) > 10);
}

static void
test_values (void)
{
  g_autofree char *path = write_config ("[general]\nmaildir = ~/Mail\nscript = rules.sieve\n"
                                        "addresses = me@example.org, me@work.example ;x@y.z\n"
                                        "filter_timeout = 12\nsubaddress_separator = +-\n"
                                        "dedupe_message_id = yes\n", 0600);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, NULL, &error);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *script = g_build_filename (dir, "rules.sieve", NULL);
  g_autofree char *mail = g_build_filename (g_get_home_dir (), "Mail", NULL);

  g_assert_no_error (error);
  g_assert_cmpstr (c->maildir, ==, mail);
  g_assert_cmpstr (c->script, ==, script); /* relative to the config file */
  g_assert_cmpuint (g_strv_length (c->addresses), ==, 3);
  g_assert_cmpstr (c->addresses[1], ==, "me@work.example");
  g_assert_cmpint (c->filter_timeout, ==, 12);
  g_assert_cmpstr (c->subaddress_separator, ==, "+-");
  g_assert_true (c->dedupe_message_id);
}

static void
test_problems (void)
{
  g_autofree char *path = write_config ("[general]\nmaildir = /m\nscrpt = x\n"
                                        "filter_timeout = forever\n\n[genral]\nx = 1\n", 0600);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, problems, &error);
  g_autofree char *p0 = NULL, *p1 = NULL, *p2 = NULL;

  g_assert_null (c);
  g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
  g_assert_cmpuint (problems->len, ==, 3);
  p0 = g_strdup_printf ("%s:6: unknown group [genral]", path);
  p1 = g_strdup_printf ("%s:3: unknown key 'scrpt' in [general]; did you mean 'script'?", path);
  p2 = g_strdup_printf ("%s:4: bad value 'forever' for filter_timeout", path);
  /* groups come in file order, keys in file order within a group */
  g_assert_cmpstr (problems->pdata[0], ==, p1);
  g_assert_true (g_str_has_prefix (problems->pdata[1], p2));
  g_assert_true (g_str_has_prefix (problems->pdata[2], p0));
}

/* filter_memory = 0 (no address-space limit) exists only in test builds,
 * where ASan's shadow memory cannot fit under any limit; a normal build
 * refuses it like any value below 32. */
static void
test_filter_memory_zero (void)
{
  g_autofree char *path = write_config ("[general]\nfilter_memory = 0\n", 0600);
  g_autofree char *low = write_config ("[general]\nfilter_memory = 31\n", 0600);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, problems, &error);
  g_autoptr (MsConfig) c_low = NULL;

#ifdef MS_FILTER_MEMORY_UNLIMITED_OK
  g_assert_no_error (error);
  g_assert_nonnull (c);
  g_assert_cmpint (c->filter_memory, ==, 0);
#else
  g_autofree char *want = g_strdup_printf ("%s:2: bad value '0' for filter_memory", path);
  g_assert_null (c);
  g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_true (g_str_has_prefix (problems->pdata[0], want));
  g_assert_nonnull (strstr (problems->pdata[0], "expected a whole number from 32 to 65536"));
#endif
  g_clear_error (&error);
  c_low = ms_config_load (low, NULL, &error);
  g_assert_null (c_low);
  g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
}

static void
test_permissions (void)
{
  g_autofree char *path = write_config ("[general]\n", 0644);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, problems, &error);

  g_assert_null (c);
  g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_assert_nonnull (strstr (error->message, "0644"));
}

static void
test_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load ("/nonexistent/mailsift/config", NULL, &error);

  g_assert_null (c);
  g_assert_error (error, MS_ERROR, MS_ERROR_CONFIG);
}

static void
test_accounts (void)
{
  g_autofree char *path = write_config ("[general]\n"
                                        "[account work]\nprotocol = pop3\nhost = mail.example.org\n"
                                        "user = me\npassword_command = echo 's3cret word'\n"
                                        "after_delivery = delete\n"
                                        "[account home]\nprotocol = imap\nhost = 127.0.0.1\n"
                                        "tls = none\nuser = me\npassword_command = printf 'x\\ny'\n"
                                        "idle = no\nfetch = no\nallow_plaintext = yes\n",
                                        0600);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, NULL, &error);
  MsAccount *work, *home;
  g_autofree char *secret = NULL, *first_line = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (c->accounts->len, ==, 2);
  work = ms_config_find_account (c, "work");
  home = ms_config_find_account (c, "home");
  g_assert_nonnull (work);
  g_assert_nonnull (home);
  g_assert_null (ms_config_find_account (c, "nope"));
  g_assert_cmpint (work->tls, ==, MS_TLS_IMPLICIT); /* secure by default */
  g_assert_cmpint (work->protocol, ==, MS_PROTOCOL_POP3);
  g_assert_cmpint (home->tls, ==, MS_TLS_NONE);
  g_assert_cmpint (ms_account_port (work), ==, 995);
  g_assert_cmpint (ms_account_port (home), ==, 143);
  g_assert_cmpstr (home->folders[0], ==, "INBOX");
  /* yes | no keys: the defaults, then the file's */
  g_assert_true (work->idle);
  g_assert_true (work->fetch);
  g_assert_false (work->allow_plaintext);
  g_assert_false (home->idle);
  g_assert_false (home->fetch);
  g_assert_true (home->allow_plaintext);
  secret = ms_account_secret (work, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "s3cret word");
  first_line = ms_account_secret (home, FALSE, &error);
  g_assert_cmpstr (first_line, ==, "x");
  g_assert_null (ms_account_secret (home, TRUE, &error)); /* no oauth2 command */
  g_assert_error (error, MS_ERROR, MS_ERROR_ACCOUNT);
}

/* command_timeout: [general] for every group that sets none, or the
 * group's own; the error names the account, the command and what to do. */
static void
test_command_timeout (void)
{
  g_autofree char *path = write_config ("[general]\ncommand_timeout = 2\n"
                                        "[account slow]\nprotocol = pop3\nhost = h\nuser = me\n"
                                        "password_command = sleep 20\n"
                                        "[account fast]\nprotocol = pop3\nhost = h\nuser = me\n"
                                        "command_timeout = 1\npassword_command = sleep 20\n"
                                        "[account bg]\nprotocol = pop3\nhost = h\nuser = me\n"
                                        "command_timeout = 1\n"
                                        "password_command = sh -c 'echo pw; sleep 20 &'\n"
                                        "[smtp out]\nhost = h\n", 0600);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, NULL, &error);
  g_autoptr (MsConfig) d = ms_config_new_default ();
  MsAccount *fast, *bg;
  gint64 start;

  g_assert_no_error (error);
  g_assert_cmpint (d->command_timeout, ==, MS_COMMAND_TIMEOUT_DEFAULT);
  g_assert_cmpint (ms_config_find_account (c, "slow")->command_timeout, ==, 2);
  g_assert_cmpint (((MsSmtpHost *) c->smtp->pdata[0])->command_timeout, ==, 2);
  fast = ms_config_find_account (c, "fast");
  bg = ms_config_find_account (c, "bg");
  g_assert_cmpint (fast->command_timeout, ==, 1);

  start = g_get_monotonic_time ();
  g_assert_null (ms_account_secret (fast, FALSE, &error));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_true (g_str_has_prefix (error->message, "account fast: password_command (sleep) did not "
                                   "finish within 1 s (command_timeout)"));
  g_assert_nonnull (strstr (error->message, "does not wait for input"));
  g_clear_error (&error);

  start = g_get_monotonic_time ();
  g_assert_null (ms_account_secret (bg, FALSE, &error));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_assert_true (g_str_has_prefix (error->message, "account bg: password_command (sh) exited, but a "
                                   "process it started still held its output open after 1 s"));
}

static void
test_account_problems (void)
{
  g_autofree char *path = write_config ("[account a]\nprotocol = pop3\nhost = mail.example.org\n"
                                        "tls = none\nuser = me\nafter_delivery = seen\n"
                                        "pin_sha256 = AB:CD\nidle = maybe\n"
                                        "[account b]\nprotocol = smtp\nhots = x\n"
                                        "[account]\n", 0600);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, problems, &error);
  g_autofree char *all = NULL;

  g_assert_null (c);
  g_ptr_array_add (problems, NULL);
  all = g_strjoinv ("\n", (char **) problems->pdata);
  g_assert_nonnull (strstr (all, "password_command"));                 /* a: no secret */
  g_assert_nonnull (strstr (all, "unencrypted to mail.example.org"));  /* a: tls = none */
  g_assert_nonnull (strstr (all, "POP3 has no flags"));                /* a: seen */
  g_assert_nonnull (strstr (all, "64 hex digits"));                    /* a: pin */
  g_assert_nonnull (strstr (all, "'maybe' for idle: expected one of: yes|no")); /* a: idle */
  g_assert_nonnull (strstr (all, "bad value 'smtp' for protocol"));    /* b */
  g_assert_nonnull (strstr (all, "did you mean 'host'?"));             /* b: hots */
  g_assert_nonnull (strstr (all, "needs a name"));                     /* [account] */
}

/* Every MS_KEY_CHOICE(_ARG) key with the enum constants of its words, in the
 * order of its choices: the loader stores the index of the word, so the
 * enums in config.h must follow the choices strings. */
#define CHOICE_ENUM(g, k, ...) \
  { g, k, { __VA_ARGS__ }, G_N_ELEMENTS (((int[]) { __VA_ARGS__ })) }
static const struct {
  const char *group;
  const char *key;
  int values[4];
  guint n_values;
} choice_enums[] = {
  CHOICE_ENUM ("general", "sieve_engine", MS_SIEVE_ENGINE_MAILSIFT, MS_SIEVE_ENGINE_LIBSIEVE),
  CHOICE_ENUM ("general", "spamtest_type", MS_SPAMTEST_SCORE, MS_SPAMTEST_STRLEN),
  CHOICE_ENUM ("general", "smtp_balance", MS_SMTP_BALANCE_FAILOVER, MS_SMTP_BALANCE_ROUND_ROBIN),
  CHOICE_ENUM ("general", "log_level", MS_LOG_LEVEL_NOTICE, MS_LOG_LEVEL_INFO, MS_LOG_LEVEL_DEBUG),
  CHOICE_ENUM ("general", "log", MS_LOG_TO_STDERR, MS_LOG_TO_SYSLOG),
  CHOICE_ENUM ("account", "protocol", MS_PROTOCOL_IMAP, MS_PROTOCOL_POP3),
  CHOICE_ENUM ("account", "tls", MS_TLS_IMPLICIT, MS_TLS_STARTTLS, MS_TLS_NONE),
  CHOICE_ENUM ("account", "fileinto_target", MS_FILEINTO_LOCAL, MS_FILEINTO_SERVER),
  CHOICE_ENUM ("account", "oversize", MS_OVERSIZE_SKIP, MS_OVERSIZE_FETCH),
  CHOICE_ENUM ("account", "after_delivery", MS_AFTER_DELIVERY_KEEP, MS_AFTER_DELIVERY_SEEN,
               MS_AFTER_DELIVERY_DELETE, MS_AFTER_DELIVERY_MOVE),
  CHOICE_ENUM ("account", "deliver_to", MS_DELIVER_TO_MAILDIR, MS_DELIVER_TO_IMAP),
  CHOICE_ENUM ("smtp", "tls", MS_TLS_IMPLICIT, MS_TLS_STARTTLS, MS_TLS_NONE),
  CHOICE_ENUM ("smtp", "auth", MS_SMTP_AUTH_AUTO, MS_SMTP_AUTH_PLAIN, MS_SMTP_AUTH_LOGIN,
               MS_SMTP_AUTH_XOAUTH2),
};

/* The value a file with "@key = @word" in a group of @key's kind stores
 * in @key's field. (There is an IMAP [account ACCOUNT] for deliver_to =
 * imap:ACCOUNT.) */
static int
stored_choice (const char *path, const MsConfigKey *key, const char *word)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = NULL;
  gpointer base;

  if (strcmp (key->group, "general") == 0)
    text = g_strdup_printf ("[general]\n%s = %s\n", key->name, word);
  else if (strcmp (key->group, "account") == 0)
    text = g_strdup_printf ("[account a]\nhost = 127.0.0.1\nuser = me\npassword_command = true\n%s"
                            "%s = %s\n[account ACCOUNT]\nprotocol = imap\nhost = h\nuser = me\n"
                            "password_command = true\n",
                            strcmp (key->name, "protocol") ? "protocol = imap\n" : "", key->name, word);
  else
    text = g_strdup_printf ("[smtp s]\nhost = 127.0.0.1\n%s = %s\n", key->name, word);
  g_assert_true (g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));
  c = ms_config_load (path, NULL, &error);
  g_assert_no_error (error);
  base = strcmp (key->group, "general") == 0   ? (gpointer) c
         : strcmp (key->group, "account") == 0 ? c->accounts->pdata[0]
                                               : c->smtp->pdata[0];
  return *(int *) G_STRUCT_MEMBER_P (base, key->offset);
}

static void
test_choice_enums (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-config-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "config", NULL);
  guint n_keys = 0;

  for (const MsConfigKey *k = ms_config_keys; k->name; k++)
    {
      g_auto (GStrv) words = NULL;
      guint e = 0;

      if (k->type != MS_KEY_CHOICE && k->type != MS_KEY_CHOICE_ARG)
        continue;
      n_keys++;
      g_test_message ("[%s] %s = %s", k->group, k->name, k->choices);
      while (e < G_N_ELEMENTS (choice_enums)
             && (strcmp (choice_enums[e].group, k->group) != 0 || strcmp (choice_enums[e].key, k->name) != 0))
        e++;
      g_assert_cmpuint (e, <, G_N_ELEMENTS (choice_enums)); /* a new choice: list its enum above */
      words = g_strsplit (k->choices, "|", -1);
      g_assert_cmpuint (g_strv_length (words), ==, choice_enums[e].n_values);
      for (guint i = 0; words[i]; i++)
        {
          int value = choice_enums[e].values[i];
          g_assert_cmpint (ms_config_choice_value (k->group, k->name, words[i]), ==, value);
          g_assert_cmpstr (ms_config_choice_word (k->group, k->name, value), ==, words[i]);
          g_assert_cmpint (stored_choice (path, k, words[i]), ==, value);
        }
      g_assert_cmpint (ms_config_choice_value (k->group, k->name, "no-such-word"), ==, -1);
    }
  g_assert_cmpuint (n_keys, ==, G_N_ELEMENTS (choice_enums));
  g_unlink (path);
  g_rmdir (dir);
}

/* protocol has no default: a group without it is refused, and one with
 * a word that is not a protocol is told both. */
static void
test_protocol_missing (void)
{
  g_autofree char *path = write_config ("[account a]\nhost = h\nuser = me\npassword_command = true\n"
                                        "[account b]\nprotocol = ftp\nhost = h\nuser = me\n"
                                        "password_command = true\n", 0600);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, problems, &error);
  g_autofree char *p0 = g_strdup_printf ("%s:1: [account a]: protocol is missing (imap or pop3)", path);
  g_autofree char *p1 = g_strdup_printf ("%s:6: bad value 'ftp' for protocol: expected one of: "
                                         "imap|pop3", path);
  g_autofree char *p2 = g_strdup_printf ("%s:5: [account b]: protocol is missing (imap or pop3)", path);

  g_assert_null (c);
  g_assert_cmpuint (problems->len, ==, 3);
  g_assert_cmpstr (problems->pdata[0], ==, p0);
  g_assert_cmpstr (problems->pdata[1], ==, p1);
  g_assert_cmpstr (problems->pdata[2], ==, p2);
}

/* after_delivery and deliver_to: what is read, and the messages for
 * values that do not fit the account. */
static void
test_delivery_targets (void)
{
  g_autofree char *path = write_config ("[account a]\nprotocol = imap\nhost = h\nuser = me\n"
                                        "password_command = true\nafter_delivery = move:Archive\n"
                                        "deliver_to = imap:b\n"
                                        "[account b]\nprotocol = imap\nhost = h\nuser = me\n"
                                        "password_command = true\nafter_delivery = seen\n", 0600);
  g_autofree char *bad = write_config ("[account c]\nprotocol = imap\nhost = h\nuser = me\n"
                                       "password_command = true\nafter_delivery = archive\n"
                                       "deliver_to = mbox\n"
                                       "[account d]\nprotocol = imap\nhost = h\nuser = me\n"
                                       "password_command = true\nafter_delivery = move:\n"
                                       "deliver_to = imap:\n"
                                       "[account e]\nprotocol = imap\nhost = h\nuser = me\n"
                                       "password_command = true\nafter_delivery = move:INBOX\n"
                                       "deliver_to = imap:e\n"
                                       "[account f]\nprotocol = pop3\nhost = h\nuser = me\n"
                                       "password_command = true\nafter_delivery = move:x\n"
                                       "deliver_to = imap:f\n", 0600);
  const char *want[] = {
    "6: [account c]: after_delivery = archive: expected keep or delete, seen or move:FOLDER",
    "13: [account d]: after_delivery = move:: expected keep or delete, seen or move:FOLDER",
    "20: [account e]: after_delivery = move:INBOX moves mail into a folder that is also in "
    "folders: it would be fetched again and again",
    "27: [account f]: after_delivery = move:x: expected keep or delete (POP3 has no flags or folders)",
    "7: [account c]: deliver_to = mbox: expected maildir or imap:ACCOUNT",
    "14: [account d]: deliver_to = imap:: there is no IMAP [account ]",
    "21: [account e]: deliver_to names the account itself",
    "28: [account f]: deliver_to = imap:f: there is no IMAP [account f]",
  };
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsConfig) c = ms_config_load (path, NULL, &error);
  g_autoptr (MsConfig) c_bad = NULL;
  MsAccount *a, *b;

  g_assert_no_error (error);
  a = ms_config_find_account (c, "a");
  b = ms_config_find_account (c, "b");
  g_assert_cmpint (a->after_delivery, ==, MS_AFTER_DELIVERY_MOVE);
  g_assert_cmpstr (a->move_folder, ==, "Archive");
  g_assert_cmpint (a->deliver_to, ==, MS_DELIVER_TO_IMAP);
  g_assert_cmpstr (a->deliver_to_account, ==, "b");
  g_assert_cmpint (b->after_delivery, ==, MS_AFTER_DELIVERY_SEEN);
  g_assert_null (b->move_folder);
  g_assert_cmpint (b->deliver_to, ==, MS_DELIVER_TO_MAILDIR); /* the default */
  g_assert_null (b->deliver_to_account);

  c_bad = ms_config_load (bad, problems, &error);
  g_assert_null (c_bad);
  g_assert_cmpuint (problems->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_autofree char *full = g_strdup_printf ("%s:%s", bad, want[i]);
      g_assert_cmpstr (problems->pdata[i], ==, full);
    }
}

static void
test_edit_distance (void)
{
  g_assert_cmpuint (ms_config_edit_distance ("script", "script"), ==, 0);
  g_assert_cmpuint (ms_config_edit_distance ("scrpt", "script"), ==, 1);
  g_assert_cmpuint (ms_config_edit_distance ("adresses", "addresses"), ==, 1);
  g_assert_cmpuint (ms_config_edit_distance ("", "abc"), ==, 3);
  g_assert_cmpuint (ms_config_edit_distance ("kitten", "sitting"), ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/values", test_values);
  g_test_add_func ("/config/problems", test_problems);
  g_test_add_func ("/config/filter-memory-zero", test_filter_memory_zero);
  g_test_add_func ("/config/permissions", test_permissions);
  g_test_add_func ("/config/missing", test_missing);
  g_test_add_func ("/config/edit-distance", test_edit_distance);
  g_test_add_func ("/config/accounts", test_accounts);
  g_test_add_func ("/config/account-problems", test_account_problems);
  g_test_add_func ("/config/command-timeout", test_command_timeout);
  g_test_add_func ("/config/choice-enums", test_choice_enums);
  g_test_add_func ("/config/protocol-missing", test_protocol_missing);
  g_test_add_func ("/config/delivery-targets", test_delivery_targets);
  return g_test_run ();
}
