/* mailsift - the configuration's key table (see config.h) and what works
 * through it: finding a key, parsing a value in file syntax into its
 * field, the defaults, the words of the choice keys, the "did you mean"
 * guess for unknown keys, and freeing a config. Reading and checking the
 * file is config.c. tests/docs-drift.py reads the table here and
 * compares it with mailsift.conf(5). */
#include "config-keys.h"

#include <string.h>

#define KEY(g, n, t, d, field, lo, hi, h) \
  { g, n, t, d, G_STRUCT_OFFSET (MsConfig, field), lo, hi, NULL, h, 0 }
#define CHOICE(g, n, d, field, choices, h) \
  { g, n, MS_KEY_CHOICE, d, G_STRUCT_OFFSET (MsConfig, field), 0, 0, choices, h, 0 }
#define ACCT(n, t, d, field, lo, hi, h) \
  { "account", n, t, d, G_STRUCT_OFFSET (MsAccount, field), lo, hi, NULL, h, 0 }
#define SMTP(n, t, d, field, lo, hi, h) \
  { "smtp", n, t, d, G_STRUCT_OFFSET (MsSmtpHost, field), lo, hi, NULL, h, 0 }
#define SMTP_CHOICE(n, d, field, choices, h) \
  { "smtp", n, MS_KEY_CHOICE, d, G_STRUCT_OFFSET (MsSmtpHost, field), 0, 0, choices, h, 0 }
#define ACCT_CHOICE(n, d, field, choices, h) \
  { "account", n, MS_KEY_CHOICE, d, G_STRUCT_OFFSET (MsAccount, field), 0, 0, choices, h, 0 }
#define ACCT_CHOICE_ARG(n, d, field, arg_field, choices, h) \
  { "account", n, MS_KEY_CHOICE_ARG, d, G_STRUCT_OFFSET (MsAccount, field), 0, 0, choices, h, \
    G_STRUCT_OFFSET (MsAccount, arg_field) }

const MsConfigKey ms_config_keys[] = {
  KEY ("general", "maildir", MS_KEY_PATH, "~/Maildir", maildir, 0, 0,
       "Maildir root that receives kept mail (INBOX); folders are Maildir++ subfolders."),
  KEY ("general", "script", MS_KEY_PATH, NULL, script, 0, 0,
       "Sieve script run on every message. Unset: every message is kept."),
  KEY ("general", "addresses", MS_KEY_STRV, NULL, addresses, 0, 0,
       "Your own addresses, comma-separated: vacation answers only mail sent to one of them."),
  KEY ("general", "subaddress_separator", MS_KEY_CHARS, "+", subaddress_separator, 0, 0,
       "Characters that separate user and :detail in an address local part."),
  KEY ("general", "folder_separator", MS_KEY_CHARS, ".", folder_separator, 0, 0,
       "Hierarchy separator in fileinto folder names (\".\" or \"/\")."),
  KEY ("general", "state_dir", MS_KEY_PATH, NULL, state_dir, 0, 0,
       "Where state.db and the outbound queue live. Default $XDG_STATE_HOME/mailsift."),
  CHOICE ("general", "sieve_engine", "mailsift", sieve_engine, "mailsift|libsieve",
          "mailsift: mailsift's own Sieve engine (RFC 5228 and its extensions); libsieve: "
          "libsieve 2.2.6, with fewer extensions, isolated as before."),
  KEY ("general", "spamtest_header", MS_KEY_STRING, NULL, spamtest_header, 0, 0,
       "Header your spam filter adds (e.g. X-Spam-Score) that the Sieve spamtest test reads."),
  CHOICE ("general", "spamtest_type", "score", spamtest_type, "score|strlen",
          "score: the header holds a number (X-Spam-Score: 7.3); strlen: its length is the score "
          "(X-Spam-Level: *******)."),
  KEY ("general", "spamtest_max", MS_KEY_STRING, "10", spamtest_max, 0, 0,
       "The score at and above which spamtest says 10 (certainly spam)."),
  KEY ("general", "virustest_header", MS_KEY_STRING, NULL, virustest_header, 0, 0,
       "Header your virus scanner adds with a score, for the Sieve virustest test."),
  KEY ("general", "virustest_max", MS_KEY_STRING, "5", virustest_max, 0, 0,
       "The virus score at and above which virustest says 5 (certainly infected)."),
  KEY ("general", "sieve_dir", MS_KEY_PATH, NULL, sieve_dir, 0, 0,
       "Where Sieve include :personal finds scripts. Default: the folder of the script."),
  KEY ("general", "sieve_global_dir", MS_KEY_PATH, NULL, sieve_global_dir, 0, 0,
       "Where Sieve include :global finds scripts. Unset: include :global is an error."),
  KEY ("general", "filter_timeout", MS_KEY_INT, "5", filter_timeout, 1, 600,
       "Seconds one message may spend in Sieve before it is kept unfiltered."),
  KEY ("general", "command_timeout", MS_KEY_INT, "30", command_timeout, 1, 3600,
       "Seconds a password_command or oauth2_token_command may run before it is stopped "
       "(with everything it started); an account or smarthost may set its own."),
  KEY ("general", "filter_memory", MS_KEY_INT, MS_FILTER_MEMORY_DEFAULT, filter_memory, 32, 65536,
       "MiB of memory the Sieve filter process may use."),
  KEY ("general", "vacation_max_days", MS_KEY_INT, "30", vacation_max_days, 1, 365,
       "Largest :days a vacation action may ask for; larger values are lowered."),
  KEY ("general", "dedupe_message_id", MS_KEY_BOOL, "no", dedupe_message_id, 0, 0,
       "yes: mail that reaches two of your accounts (same Message-ID) is delivered once; "
       "Message-IDs are remembered for 30 days."),
  KEY ("general", "queue_lifetime", MS_KEY_INT, "5", queue_lifetime, 1, 60,
       "Days a queued message (redirect, vacation...) is retried before it is given up and you "
       "get a failure notice."),
  CHOICE ("general", "smtp_balance", "failover", smtp_balance, "failover|round-robin",
          "failover: always start with the first [smtp NAME] and go on to the next only when one "
          "fails; round-robin: each message starts at the next smarthost in turn."),
  KEY ("general", "max_redirects", MS_KEY_INT, "4", max_redirects, 1, 100,
       "Most redirect actions carried out for one message; more are dropped with a note."),
  CHOICE ("general", "log_level", "notice", log_level, "notice|info|debug",
          "notice: problems and decisions that changed a delivery; info: also one line per message; "
          "debug: also the steps taken and each command sent to a server with its answer "
          "(passwords hidden)."),
  CHOICE ("general", "log", "stderr", log, "stderr|syslog",
          "Where log lines go: stderr (with a timestamp, unless stderr is the systemd journal), "
          "or syslog (facility mail, through /dev/log; stderr when that cannot be reached)."),
  ACCT_CHOICE ("protocol", NULL, protocol, "imap|pop3", "imap or pop3 (required)."),
  ACCT ("host", MS_KEY_STRING, NULL, host, 0, 0, "Server host name or address (required)."),
  ACCT ("port", MS_KEY_INT, "0", port, 0, 65535,
        "Server port; 0 means 143/993 for IMAP and 110/995 for POP3, by tls."),
  ACCT_CHOICE ("tls", "implicit", tls, "implicit|starttls|none",
               "implicit (TLS from the start), starttls, or none (only to a loopback host, "
               "or with allow_plaintext = yes)."),
  ACCT ("allow_plaintext", MS_KEY_BOOL, "no", allow_plaintext, 0, 0,
        "Allow tls = none to a host that is not loopback. Sends your password unprotected."),
  ACCT ("ca_file", MS_KEY_PATH, NULL, ca_file, 0, 0,
        "Trust only this CA certificate file (PEM) for the server, instead of the system's."),
  ACCT ("pin_sha256", MS_KEY_STRING, NULL, pin_sha256, 0, 0,
        "Accept exactly the server certificate with this SHA-256 fingerprint (AB:CD:...)."),
  ACCT ("user", MS_KEY_STRING, NULL, user, 0, 0, "Login name (required)."),
  ACCT ("password_command", MS_KEY_STRING, NULL, password_command, 0, 0,
        "Command (no shell) whose first output line is the password, e.g. pass show mail/work."),
  ACCT ("oauth2_token_command", MS_KEY_STRING, NULL, oauth2_token_command, 0, 0,
        "Command (no shell) whose first output line is an OAuth2 access token (XOAUTH2)."),
  ACCT ("command_timeout", MS_KEY_INT, "0", command_timeout, 0, 3600,
        "Seconds this account's password_command or oauth2_token_command may run; 0: the "
        "[general] command_timeout."),
  ACCT ("folders", MS_KEY_STRV, "INBOX", folders, 0, 0, "IMAP folders to fetch, comma-separated."),
  ACCT_CHOICE_ARG ("after_delivery", "keep", after_delivery, move_folder,
                   "keep|seen|delete|move:FOLDER",
                   "What happens on the server once a message is delivered: keep, seen, delete or "
                   "move:FOLDER (POP3: keep or delete). Nothing is fetched twice either way."),
  ACCT ("keep_days", MS_KEY_INT, "0", keep_days, 0, 36500,
        "Delete messages from the server this many days after they were fetched; 0 never."),
  ACCT ("script", MS_KEY_PATH, NULL, script, 0, 0, "Sieve script for this account (default: [general] script)."),
  ACCT ("poll_interval", MS_KEY_INT, "300", poll_interval, 10, 86400,
        "Seconds between checks for new mail in mailsift run, where IDLE is not used."),
  ACCT ("idle", MS_KEY_BOOL, "yes", idle, 0, 0, "Use IMAP IDLE for push delivery in mailsift run."),
  ACCT ("idle_keepalive", MS_KEY_INT, "300", idle_keepalive, 5, 1680,
        "Seconds between checks that an idling IMAP connection is still alive."),
  ACCT_CHOICE ("fileinto_target", "local", fileinto_target, "local|server",
               "local: fileinto delivers into the local Maildir folder; server: moves the message "
               "into that folder on the IMAP server, fetching its body only if it is also kept, "
               "redirected or answered."),
  ACCT_CHOICE_ARG ("deliver_to", "maildir", deliver_to, deliver_to_account,
                   "maildir|imap:ACCOUNT",
                   "maildir: kept and filed mail goes into the local Maildir; imap:ACCOUNT: it is "
                   "appended to that IMAP account's folders instead (mailbox migration)."),
  ACCT ("fetch", MS_KEY_BOOL, "yes", fetch, 0, 0,
        "no: never fetch this account; it only receives mail (deliver_to = imap:NAME)."),
  ACCT ("max_message_size", MS_KEY_INT, "0", max_message_size, 0, G_MAXINT,
        "Largest message to fetch, in KiB; 0 means no limit."),
  ACCT_CHOICE ("oversize", "skip", oversize, "skip|fetch",
               "skip: leave larger messages on the server and log a warning; fetch: fetch them anyway."),
  ACCT ("timeout", MS_KEY_INT, "60", timeout, 5, 3600, "Seconds for connecting and for each network read."),
  ACCT ("fetch_deadline", MS_KEY_INT, "3600", fetch_deadline, 0, 604800,
        "Seconds one fetch of this account may take; then it stops and the rest waits for the next "
        "run. 0 means no limit."),
  SMTP ("host", MS_KEY_STRING, NULL, host, 0, 0, "Smarthost name or address (required)."),
  SMTP ("port", MS_KEY_INT, "0", port, 0, 65535, "Port; 0 means 465 for tls = implicit, else 587."),
  SMTP_CHOICE ("tls", "starttls", tls, "implicit|starttls|none",
               "implicit, starttls, or none (only to a loopback host, or with allow_plaintext = yes)."),
  SMTP ("allow_plaintext", MS_KEY_BOOL, "no", allow_plaintext, 0, 0,
        "Allow tls = none to a host that is not loopback."),
  SMTP ("ca_file", MS_KEY_PATH, NULL, ca_file, 0, 0, "Trust only this CA certificate file (PEM)."),
  SMTP ("pin_sha256", MS_KEY_STRING, NULL, pin_sha256, 0, 0,
        "Accept exactly the certificate with this SHA-256 fingerprint."),
  SMTP ("user", MS_KEY_STRING, NULL, user, 0, 0, "Login name for AUTH; unset: no AUTH."),
  SMTP ("password_command", MS_KEY_STRING, NULL, password_command, 0, 0,
        "Command (no shell) whose first output line is the password."),
  SMTP ("oauth2_token_command", MS_KEY_STRING, NULL, oauth2_token_command, 0, 0,
        "Command (no shell) whose first output line is an OAuth2 access token (XOAUTH2)."),
  SMTP ("command_timeout", MS_KEY_INT, "0", command_timeout, 0, 3600,
        "Seconds this smarthost's password_command or oauth2_token_command may run; 0: the "
        "[general] command_timeout."),
  SMTP_CHOICE ("auth", "auto", auth, "auto|plain|login|xoauth2",
               "AUTH mechanism; auto picks XOAUTH2 with a token command, else PLAIN."),
  SMTP ("timeout", MS_KEY_INT, "60", timeout, 5, 3600, "Seconds for connecting and each reply."),
  { NULL, NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0 },
};

guint
ms_config_edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diag = row[0];
      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint up = row[j];
          guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;
          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
          diag = up;
        }
    }
  return row[lb];
}

static char *
expand_path (const char *value, const char *config_dir)
{
  if (value[0] == '~' && (value[1] == '/' || value[1] == '\0'))
    return g_build_filename (g_get_home_dir (), value + 1, NULL);
  if (g_path_is_absolute (value) || config_dir == NULL)
    return g_strdup (value);
  return g_build_filename (config_dir, value, NULL);
}

const MsConfigKey *
ms_config_find_key (const char *group, const char *name)
{
  for (const MsConfigKey *k = ms_config_keys; k->name; k++)
    if (strcmp (k->group, group) == 0 && strcmp (k->name, name) == 0)
      return k;
  return NULL;
}

/* The index of @value among the words in the choices of @key, or -1. A
 * word with a colon ("move:FOLDER") stands for every value that begins
 * with what comes up to the colon ("move:"); the rest of the value is
 * put in @arg_out (NULL for other words). */
static int
choice_index (const MsConfigKey *key, const char *value, const char **arg_out)
{
  g_auto (GStrv) words = g_strsplit (key->choices, "|", -1);

  for (int i = 0; words[i]; i++)
    {
      const char *colon = strchr (words[i], ':');
      gsize len = colon ? (gsize) (colon + 1 - words[i]) : 0;

      if (colon ? strncmp (value, words[i], len) == 0 : strcmp (value, words[i]) == 0)
        {
          if (arg_out)
            *arg_out = colon ? value + len : NULL;
          return i;
        }
    }
  return -1;
}

int
ms_config_choice_value (const char *group, const char *key, const char *word)
{
  const MsConfigKey *k = ms_config_find_key (group, key);

  g_return_val_if_fail (k != NULL && (k->type == MS_KEY_CHOICE || k->type == MS_KEY_CHOICE_ARG), -1);
  return choice_index (k, word, NULL);
}

const char *
ms_config_choice_word (const char *group, const char *key, int value)
{
  const MsConfigKey *k = ms_config_find_key (group, key);
  g_auto (GStrv) words = NULL;

  g_return_val_if_fail (k != NULL && (k->type == MS_KEY_CHOICE || k->type == MS_KEY_CHOICE_ARG), NULL);
  words = g_strsplit (k->choices, "|", -1);
  g_return_val_if_fail (value >= 0 && (guint) value < g_strv_length (words), NULL);
  return g_intern_string (words[value]); /* kept for good, so the caller need not free it */
}

/* Parse one value in file syntax into its field. FALSE with @why_out set
 * when the value is not acceptable. */
gboolean
ms_config_set_value (gpointer base, const MsConfigKey *key, const char *value,
                     const char *config_dir, char **why_out)
{
  gpointer field = G_STRUCT_MEMBER_P (base, key->offset);

  switch (key->type)
    {
    case MS_KEY_CHOICE:
      {
        int i = choice_index (key, value, NULL);
        if (i < 0)
          {
            *why_out = g_strdup_printf ("expected one of: %s", key->choices);
            return FALSE;
          }
        *(int *) field = i;
        return TRUE;
      }
    case MS_KEY_CHOICE_ARG:
      {
        char **arg_field = G_STRUCT_MEMBER_P (base, key->arg_offset);
        const char *arg = NULL;
        *(int *) field = choice_index (key, value, &arg);
        g_free (*arg_field);
        *arg_field = g_strdup (arg);
        return TRUE; /* which values fit depends on other keys: check_account, check_deliver_to */
      }
    case MS_KEY_STRING:
      g_free (*(char **) field);
      *(char **) field = g_strdup (value);
      return TRUE;
    case MS_KEY_BOOL:
      if (strcmp (value, "yes") != 0 && strcmp (value, "no") != 0)
        {
          *why_out = g_strdup ("expected one of: yes|no");
          return FALSE;
        }
      *(gboolean *) field = value[0] == 'y';
      return TRUE;
    case MS_KEY_PATH:
      if (*value == '\0')
        {
          *why_out = g_strdup ("an empty path");
          return FALSE;
        }
      g_free (*(char **) field);
      *(char **) field = expand_path (value, config_dir);
      return TRUE;
    case MS_KEY_CHARS:
      if (*value == '\0' || strlen (value) > 4)
        {
          *why_out = g_strdup ("expected one to four punctuation characters");
          return FALSE;
        }
      for (const char *p = value; *p; p++)
        if (!g_ascii_ispunct (*p))
          {
            *why_out = g_strdup_printf ("'%c' is not a punctuation character", *p);
            return FALSE;
          }
      g_free (*(char **) field);
      *(char **) field = g_strdup (value);
      return TRUE;
    case MS_KEY_STRV:
      {
        g_auto (GStrv) parts = g_strsplit_set (value, ",;", -1);
        GPtrArray *out = g_ptr_array_new ();
        for (guint i = 0; parts[i]; i++)
          {
            char *item = g_strstrip (parts[i]);
            if (*item)
              g_ptr_array_add (out, g_strdup (item));
          }
        g_ptr_array_add (out, NULL);
        g_strfreev (*(char ***) field);
        *(char ***) field = (char **) g_ptr_array_free (out, FALSE);
        return TRUE;
      }
    case MS_KEY_INT:
      {
        gint64 n;
        g_autoptr (GError) local = NULL;
#ifdef MS_FILTER_MEMORY_UNLIMITED_OK
        if (strcmp (key->name, "filter_memory") == 0 && strcmp (value, "0") == 0)
          {
            *(int *) field = 0; /* test build: no address-space limit */
            return TRUE;
          }
#endif
        if (!g_ascii_string_to_signed (value, 10, key->min, key->max, &n, &local))
          {
            *why_out = g_strdup_printf ("expected a whole number from %d to %d", key->min, key->max);
            return FALSE;
          }
        *(int *) field = (int) n;
        return TRUE;
      }
    }
  g_assert_not_reached ();
}

void
ms_config_apply_defaults (gpointer base, const char *group)
{
  for (const MsConfigKey *k = ms_config_keys; k->name; k++)
    {
      g_autofree char *why = NULL;

      if (strcmp (k->group, group) != 0)
        continue;
      if (k->default_value != NULL)
        {
          gboolean ok = ms_config_set_value (base, k, k->default_value, NULL, &why);
          g_assert (ok);
        }
      else if (k->type == MS_KEY_CHOICE)
        *(int *) G_STRUCT_MEMBER_P (base, k->offset) = -1; /* not set (MS_PROTOCOL_UNSET) */
    }
}

static void
free_fields (gpointer base, const char *group)
{
  for (const MsConfigKey *k = ms_config_keys; k->name; k++)
    {
      gpointer field = G_STRUCT_MEMBER_P (base, k->offset);
      if (strcmp (k->group, group) != 0 || k->type == MS_KEY_INT || k->type == MS_KEY_BOOL
          || k->type == MS_KEY_CHOICE)
        continue;
      if (k->type == MS_KEY_CHOICE_ARG)
        g_free (*(char **) G_STRUCT_MEMBER_P (base, k->arg_offset));
      else if (k->type == MS_KEY_STRV)
        g_strfreev (*(char ***) field);
      else
        g_free (*(char **) field);
    }
}

static void
account_free (MsAccount *a)
{
  free_fields (a, "account");
  g_free (a->name);
  g_free (a);
}

static void
smtp_host_free (MsSmtpHost *h)
{
  free_fields (h, "smtp");
  g_free (h->name);
  g_free (h);
}

MsConfig *
ms_config_new_default (void)
{
  MsConfig *config = g_new0 (MsConfig, 1);

  ms_config_apply_defaults (config, "general");
  config->accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) account_free);
  config->smtp = g_ptr_array_new_with_free_func ((GDestroyNotify) smtp_host_free);
  if (config->state_dir == NULL)
    config->state_dir = g_build_filename (g_get_user_state_dir (), "mailsift", NULL);
  return config;
}

const MsConfigKey *
ms_config_closest_key (const char *group, const char *name)
{
  const MsConfigKey *best = NULL;
  guint best_d = G_MAXUINT;

  for (const MsConfigKey *k = ms_config_keys; k->name; k++)
    {
      guint d;
      if (g_strcmp0 (k->group, group) != 0)
        continue;
      d = ms_config_edit_distance (name, k->name);
      if (d < best_d)
        {
          best_d = d;
          best = k;
        }
    }
  return best_d <= MAX (2u, strlen (name) / 3) ? best : NULL;
}

void
ms_config_free (MsConfig *config)
{
  if (config == NULL)
    return;
  free_fields (config, "general");
  g_ptr_array_unref (config->accounts);
  g_ptr_array_unref (config->smtp);
  g_free (config->path);
  g_free (config);
}
