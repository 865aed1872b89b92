#include "config.h"
#include "error.h"
#include "extcmd.h"

#include <gio/gio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

char *
ms_config_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "mailsift", "config", NULL);
}

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

/* GKeyFile keeps no line numbers, so find "[group]" then "key =" in the
 * raw text for messages that point at the right line. 0 = not found. */
static guint
find_line (const char *text, const char *group, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  gboolean in_group = group == NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];
      while (g_ascii_isspace (*l))
        l++;
      if (*l == '[')
        {
          const char *end = strchr (l, ']');
          in_group = end != NULL && group != NULL && (gsize) (end - l - 1) == strlen (group)
                     && strncmp (l + 1, group, end - l - 1) == 0;
          if (in_group && key == NULL)
            return i + 1;
          continue;
        }
      if (in_group && key != NULL && g_str_has_prefix (l, key))
        {
          const char *rest = l + strlen (key);
          while (*rest == ' ' || *rest == '\t')
            rest++;
          if (*rest == '=')
            return i + 1;
        }
    }
  return 0;
}

typedef struct {
  const char *path;
  const char *text;
  GPtrArray *problems;
  GError *first;
  GHashTable *written; /* MS_KEY_CHOICE_ARG field -> the value as written, for messages */
} Checker;

static void problem (Checker *c, const char *group, const char *key, const char *fmt, ...)
  G_GNUC_PRINTF (4, 5);

static void
problem (Checker *c, const char *group, const char *key, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;
  g_autofree char *full = NULL;
  guint line = c->text ? find_line (c->text, group, key) : 0;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (line > 0)
    full = g_strdup_printf ("%s:%u: %s", c->path, line, msg);
  else
    full = g_strdup_printf ("%s: %s", c->path, msg);
  if (c->problems)
    g_ptr_array_add (c->problems, g_strdup (full));
  if (c->first == NULL)
    c->first = g_error_new_literal (MS_ERROR, MS_ERROR_CONFIG, full);
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

static const MsConfigKey *
find_key (const char *group, const char *name)
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
  const MsConfigKey *k = find_key (group, key);

  g_return_val_if_fail (k != NULL && (k->type == MS_KEY_CHOICE || k->type == MS_KEY_CHOICE_ARG), -1);
  return choice_index (k, word, NULL);
}

const char *
ms_config_choice_word (const char *group, const char *key, int value)
{
  const MsConfigKey *k = find_key (group, key);
  g_auto (GStrv) words = NULL;

  g_return_val_if_fail (k != NULL && (k->type == MS_KEY_CHOICE || k->type == MS_KEY_CHOICE_ARG), NULL);
  words = g_strsplit (k->choices, "|", -1);
  g_return_val_if_fail (value >= 0 && (guint) value < g_strv_length (words), NULL);
  return g_intern_string (words[value]); /* kept for good, so the caller need not free it */
}

/* Parse one value in file syntax into its field. FALSE with @why_out set
 * when the value is not acceptable. */
static gboolean
set_value (gpointer base, const MsConfigKey *key, const char *value, const char *config_dir,
           char **why_out)
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

static void
apply_defaults (gpointer base, const char *group)
{
  for (const MsConfigKey *k = ms_config_keys; k->name; k++)
    {
      g_autofree char *why = NULL;

      if (strcmp (k->group, group) != 0)
        continue;
      if (k->default_value != NULL)
        {
          gboolean ok = set_value (base, k, k->default_value, NULL, &why);
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

  apply_defaults (config, "general");
  config->accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) account_free);
  config->smtp = g_ptr_array_new_with_free_func ((GDestroyNotify) smtp_host_free);
  if (config->state_dir == NULL)
    config->state_dir = g_build_filename (g_get_user_state_dir (), "mailsift", NULL);
  return config;
}

static const MsConfigKey *
closest_key (const char *group, const char *name)
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

/* "general" for [general], "account" for [account NAME], else NULL. */
static const char *
group_kind (const char *group)
{
  if (strcmp (group, "general") == 0)
    return "general";
  if (g_str_has_prefix (group, "account ") || strcmp (group, "account") == 0)
    return "account";
  if (g_str_has_prefix (group, "smtp ") || strcmp (group, "smtp") == 0)
    return "smtp";
  return NULL;
}

/* The value of a MS_KEY_CHOICE_ARG field as the file gave it. */
static const char *
written (Checker *c, gconstpointer field)
{
  const char *text = g_hash_table_lookup (c->written, field);

  return text ? text : "";
}

static gboolean
is_loopback (const char *host)
{
  g_autoptr (GInetAddress) addr = host ? g_inet_address_new_from_string (host) : NULL;

  return g_strcmp0 (host, "localhost") == 0 || (addr && g_inet_address_get_is_loopback (addr));
}

/* Rules that span keys of one account. */
static void
check_account (Checker *c, MsAccount *a)
{
  g_autofree char *group = g_strdup_printf ("account %s", a->name);

  for (const char *p = a->name; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("._-", *p))
      {
        problem (c, group, NULL, "[%s]: an account name may hold only letters, digits, '.', "
                 "'_' and '-'", group);
        break;
      }
  if (a->protocol == MS_PROTOCOL_UNSET)
    problem (c, group, NULL, "[%s]: protocol is missing (imap or pop3)", group);
  if (a->host == NULL || *a->host == '\0')
    problem (c, group, NULL, "[%s]: host is missing", group);
  if (a->user == NULL || *a->user == '\0')
    problem (c, group, NULL, "[%s]: user is missing", group);
  if (a->password_command == NULL && a->oauth2_token_command == NULL)
    problem (c, group, NULL, "[%s]: set password_command (or oauth2_token_command); passwords "
             "are never written in the config or on the command line", group);
  if (a->tls == MS_TLS_NONE && a->host && !is_loopback (a->host) && !a->allow_plaintext)
    problem (c, group, "tls", "[%s]: tls = none would send your password unencrypted to %s; "
             "use implicit or starttls (or set allow_plaintext = yes if you must)", group, a->host);
  if (a->pin_sha256)
    {
      guint hex = 0, other = 0;
      for (const char *p = a->pin_sha256; *p; p++)
        {
          hex += g_ascii_isxdigit (*p);
          other += !g_ascii_isxdigit (*p) && *p != ':' && *p != ' ';
        }
      if (hex != 64 || other)
        problem (c, group, "pin_sha256", "[%s]: pin_sha256 must be 64 hex digits (colons "
                 "allowed), as mailsift prints it when a certificate is refused", group);
    }
  if (a->fileinto_target == MS_FILEINTO_SERVER && a->protocol != MS_PROTOCOL_IMAP)
    problem (c, group, "fileinto_target", "[%s]: fileinto_target = server needs protocol = imap "
             "(a POP3 server has no folders)", group);
  /* after_delivery: set_value took any value; which ones fit depends on the protocol */
  {
    const char *v = written (c, &a->after_delivery);
    MsAfterDelivery how = a->after_delivery;
    gboolean imap = a->protocol == MS_PROTOCOL_IMAP;
    gboolean ok = how == MS_AFTER_DELIVERY_KEEP || how == MS_AFTER_DELIVERY_DELETE
                  || (imap && (how == MS_AFTER_DELIVERY_SEEN
                               || (how == MS_AFTER_DELIVERY_MOVE && *a->move_folder != '\0')));
    if (ok && how == MS_AFTER_DELIVERY_MOVE && a->folders
        && g_strv_contains ((const char *const *) a->folders, a->move_folder))
      problem (c, group, "after_delivery", "[%s]: after_delivery = %s moves mail into a folder "
               "that is also in folders: it would be fetched again and again", group, v);
    if (!ok)
      problem (c, group, "after_delivery", "[%s]: after_delivery = %s: expected keep or "
               "delete%s", group, v, imap ? ", seen or move:FOLDER" : " (POP3 has no flags or folders)");
  }
}

/* After every group is read: deliver_to must name another IMAP account. */
static void
check_deliver_to (Checker *c, const MsConfig *config, const MsAccount *a)
{
  g_autofree char *group = g_strdup_printf ("account %s", a->name);
  const MsAccount *to;

  if (a->deliver_to == MS_DELIVER_TO_MAILDIR)
    return;
  to = a->deliver_to_account ? ms_config_find_account (config, a->deliver_to_account) : NULL;
  if (a->deliver_to != MS_DELIVER_TO_IMAP)
    problem (c, group, "deliver_to", "[%s]: deliver_to = %s: expected maildir or imap:ACCOUNT",
             group, written (c, &a->deliver_to));
  else if (to == NULL || to->protocol != MS_PROTOCOL_IMAP)
    problem (c, group, "deliver_to", "[%s]: deliver_to = %s: there is no IMAP [account %s]",
             group, written (c, &a->deliver_to), a->deliver_to_account);
  else if (to == a)
    problem (c, group, "deliver_to", "[%s]: deliver_to names the account itself", group);
}

static void
check_smtp (Checker *c, MsSmtpHost *h)
{
  g_autofree char *group = g_strdup_printf ("smtp %s", h->name);

  if (h->host == NULL || *h->host == '\0')
    problem (c, group, NULL, "[%s]: host is missing", group);
  if (h->user && h->password_command == NULL && h->oauth2_token_command == NULL)
    problem (c, group, NULL, "[%s]: user is set but neither password_command nor "
             "oauth2_token_command", group);
  if (h->tls == MS_TLS_NONE && h->host && !is_loopback (h->host) && !h->allow_plaintext)
    problem (c, group, "tls", "[%s]: tls = none would send your mail (and password) unencrypted "
             "to %s; use starttls or implicit", group, h->host);
}

int
ms_smtp_host_port (const MsSmtpHost *h)
{
  if (h->port > 0)
    return h->port;
  return h->tls == MS_TLS_IMPLICIT ? 465 : 587;
}

MsAccount *
ms_config_find_account (const MsConfig *config, const char *name)
{
  for (guint i = 0; config->accounts && i < config->accounts->len; i++)
    {
      MsAccount *a = config->accounts->pdata[i];
      if (strcmp (a->name, name) == 0)
        return a;
    }
  return NULL;
}

int
ms_account_port (const MsAccount *a)
{
  gboolean implicit = a->tls == MS_TLS_IMPLICIT;

  if (a->port > 0)
    return a->port;
  if (a->protocol == MS_PROTOCOL_POP3)
    return implicit ? 995 : 110;
  return implicit ? 993 : 143;
}

char *
ms_config_run_secret (const char *owner, const char *what, const char *command, int timeout_s,
                      GError **error)
{
  g_auto (GStrv) argv = NULL;
  g_auto (MsExtcmdResult) res = { 0 };
  g_autoptr (GError) local = NULL;
  char *end;

  if (command == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "%s: no %s is set", owner, what);
      return NULL;
    }
  if (timeout_s <= 0)
    timeout_s = MS_COMMAND_TIMEOUT_DEFAULT;
  if (!g_shell_parse_argv (command, NULL, &argv, &local))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "%s: cannot run %s: %s", owner, what,
                   local->message);
      return NULL;
    }
  if (!ms_extcmd_run ((const char *const *) argv, (guint) timeout_s, &res, &local))
    {
      if (!res.timed_out)
        g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "%s: cannot run %s: %s", owner, what,
                     local->message);
      else if (res.exited_early)
        g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY,
                     "%s: %s (%s) exited, but a process it started still held its output open "
                     "after %d s (command_timeout), so it was stopped; the command must not leave "
                     "anything running in the background that keeps its standard output open",
                     owner, what, argv[0], timeout_s);
      else
        g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY,
                     "%s: %s (%s) did not finish within %d s (command_timeout) and was stopped; "
                     "check that it does not wait for input (gpg's pinentry needs a terminal or "
                     "a running gpg-agent), or raise command_timeout", owner, what, argv[0],
                     timeout_s);
      return NULL;
    }
  if (!g_spawn_check_wait_status (res.wait_status, NULL))
    {
      g_strstrip (res.err);
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "%s: %s failed%s%s", owner, what,
                   *res.err ? ": " : " (it printed no error message)", res.err);
      return NULL;
    }
  end = res.out + strcspn (res.out, "\r\n");
  if (end == res.out)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "%s: %s printed nothing", owner, what);
      return NULL;
    }
  return g_strndup (res.out, (gsize) (end - res.out));
}

char *
ms_account_secret (const MsAccount *a, gboolean oauth2, GError **error)
{
  g_autofree char *owner = g_strdup_printf ("account %s", a->name);

  return ms_config_run_secret (owner, oauth2 ? "oauth2_token_command" : "password_command",
                               oauth2 ? a->oauth2_token_command : a->password_command,
                               a->command_timeout, error);
}

static void
check_permissions (Checker *c, int fd)
{
  struct stat st;

  if (fstat (fd, &st) != 0)
    return;
  if (st.st_uid != getuid ())
    problem (c, NULL, NULL, "the file belongs to uid %u, not to you (uid %u); it must be your own",
             (unsigned) st.st_uid, (unsigned) getuid ());
  if (st.st_mode & 077)
    problem (c, NULL, NULL,
             "the file may be read or changed by others (mode %04o); it can hold password "
             "commands and decides where your mail goes. Run: chmod 600 %s",
             (unsigned) (st.st_mode & 07777), c->path);
}

/* Open the file only to check who owns it and who may change it (as
 * problems). FALSE, with @error set and added to the problems, when it
 * cannot be opened at all. */
static gboolean
check_file (Checker *c, GError **error)
{
  int fd = open (c->path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      int e = errno;
      ms_set_errno_error (error, e, MS_ERROR_CONFIG, "cannot open config file %s", c->path);
      if (c->problems)
        g_ptr_array_add (c->problems, g_strdup ((*error)->message));
      return FALSE;
    }
  check_permissions (c, fd);
  close (fd);
  return TRUE;
}

/* Read the file into @kf, and its text into @text_out, which c->text
 * then points to for the line numbers of messages. FALSE, with a
 * problem reported, when it cannot be read or is not a key file. */
static gboolean
read_file (Checker *c, GKeyFile *kf, char **text_out)
{
  g_autoptr (GError) local = NULL;
  gsize len;

  if (!g_file_get_contents (c->path, text_out, &len, &local))
    {
      problem (c, NULL, NULL, "cannot read: %s", local->message);
      return FALSE;
    }
  if (!g_key_file_load_from_data (kf, *text_out, len, G_KEY_FILE_NONE, &local))
    {
      problem (c, NULL, NULL, "not a valid config file: %s (the format is [group] lines "
               "followed by key = value lines)", local->message);
      return FALSE;
    }
  c->text = *text_out;
  return TRUE;
}

/* The struct that the keys of @group (of @kind) go into: @config for
 * [general]; for [smtp NAME] and [account NAME] a new MsSmtpHost or
 * MsAccount with its defaults, added to @config. NULL, with a problem
 * reported, when the group has no name (or an account's is taken). */
static gpointer
group_base (Checker *c, MsConfig *config, const char *group, const char *kind)
{
  if (strcmp (kind, "smtp") == 0)
    {
      const char *name = strcmp (group, "smtp") == 0 ? "" : group + strlen ("smtp ");
      MsSmtpHost *h;
      while (*name == ' ')
        name++;
      if (*name == '\0')
        {
          problem (c, group, NULL, "[%s]: every smarthost needs a name, as in [smtp main]", group);
          return NULL;
        }
      h = g_new0 (MsSmtpHost, 1);
      h->name = g_strdup (name);
      apply_defaults (h, "smtp");
      g_ptr_array_add (config->smtp, h);
      return h;
    }
  else if (strcmp (kind, "account") == 0)
    {
      const char *name = strcmp (group, "account") == 0 ? "" : group + strlen ("account ");
      MsAccount *a;
      while (*name == ' ')
        name++;
      if (*name == '\0' || ms_config_find_account (config, name))
        {
          problem (c, group, NULL, "[%s]: every account needs a name of its own, as in "
                   "[account work]", group);
          return NULL;
        }
      a = g_new0 (MsAccount, 1);
      a->name = g_strdup (name);
      apply_defaults (a, "account");
      g_ptr_array_add (config->accounts, a);
      return a;
    }
  return config;
}

/* Set each key of @group (of @kind) in @base, paths relative to
 * @config_dir; a key that does not exist, or a value that does not
 * parse, is a problem. */
static void
read_keys (Checker *c, GKeyFile *kf, const char *group, const char *kind, gpointer base,
           const char *config_dir)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);

  for (guint ki = 0; keys && keys[ki]; ki++)
    {
      const MsConfigKey *key = find_key (kind, keys[ki]);
      g_autoptr (GError) local = NULL;
      g_autofree char *value = NULL;
      g_autofree char *why = NULL;

      if (key == NULL)
        {
          const MsConfigKey *near = closest_key (kind, keys[ki]);
          if (near)
            problem (c, group, keys[ki], "unknown key '%s' in [%s]; did you mean '%s'?",
                     keys[ki], group, near->name);
          else
            problem (c, group, keys[ki], "unknown key '%s' in [%s] (see mailsift.conf(5))",
                     keys[ki], group);
          continue;
        }
      value = g_key_file_get_string (kf, group, keys[ki], &local);
      if (value == NULL)
        {
          problem (c, group, keys[ki], "%s: %s", keys[ki], local->message);
          continue;
        }
      g_strstrip (value);
      if (!set_value (base, key, value, config_dir, &why))
        problem (c, group, keys[ki], "bad value '%s' for %s: %s", value, keys[ki], why);
      else if (key->type == MS_KEY_CHOICE_ARG)
        g_hash_table_insert (c->written, G_STRUCT_MEMBER_P (base, key->offset), g_strdup (value));
    }
}

/* One group of the file: its keys, then the rules that span them. */
static void
read_group (Checker *c, GKeyFile *kf, MsConfig *config, const char *group, const char *config_dir)
{
  const char *kind = group_kind (group);
  gpointer base;

  if (kind == NULL)
    {
      problem (c, group, NULL, "unknown group [%s]; the known groups are [general], "
               "[account NAME] and [smtp NAME]", group);
      return;
    }
  base = group_base (c, config, group, kind);
  if (base == NULL)
    return;
  read_keys (c, kf, group, kind, base, config_dir);
  if (base != config && strcmp (kind, "account") == 0)
    check_account (c, base);
  else if (base != config)
    check_smtp (c, base);
}

/* After every group is read: the rules that span groups, and what a
 * group takes from [general]. */
static void
check_groups (Checker *c, MsConfig *config)
{
  for (guint i = 0; i < config->accounts->len; i++)
    check_deliver_to (c, config, config->accounts->pdata[i]);
  /* command_timeout = 0 in a group: the [general] value */
  for (guint i = 0; i < config->accounts->len; i++)
    {
      MsAccount *a = config->accounts->pdata[i];
      if (a->command_timeout == 0)
        a->command_timeout = config->command_timeout;
    }
  for (guint i = 0; i < config->smtp->len; i++)
    {
      MsSmtpHost *h = config->smtp->pdata[i];
      if (h->command_timeout == 0)
        h->command_timeout = config->command_timeout;
    }
}

MsConfig *
ms_config_load (const char *path, GPtrArray *problems, GError **error)
{
  g_autoptr (MsConfig) config = ms_config_new_default ();
  g_autofree char *default_path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *config_dir = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) groups = NULL;
  g_autoptr (GHashTable) written = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  Checker c = { 0 };

  if (path == NULL)
    {
      default_path = ms_config_default_path ();
      path = default_path;
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&config); /* no file: defaults */
    }
  c.path = path;
  c.problems = problems;
  c.written = written;

  if (!check_file (&c, error))
    return NULL;
  if (!read_file (&c, kf, &text))
    {
      g_propagate_error (error, c.first);
      return NULL;
    }
  config->path = g_strdup (path);
  {
    g_autofree char *dir = g_path_get_dirname (path);
    config_dir = g_canonicalize_filename (dir, NULL); /* relative paths in it become absolute */
  }

  groups = g_key_file_get_groups (kf, NULL);
  for (guint gi = 0; groups[gi]; gi++)
    read_group (&c, kf, config, groups[gi], config_dir);
  check_groups (&c, config);
  if (c.first)
    {
      g_propagate_error (error, c.first);
      return NULL;
    }
  return g_steal_pointer (&config);
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
