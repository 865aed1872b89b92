/* mailsift - reading the configuration file (see config.h): its groups
 * and keys, through the key table of config-keys.c, the checks of each
 * group and across groups, with messages that name the file and line;
 * and what the rest of mailsift asks of a config (ports, accounts, the
 * password and token commands). */
#include "config.h"
#include "config-keys.h"
#include "error.h"
#include "extcmd.h"

#include <gio/gio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
ms_config_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "mailsift", "config", NULL);
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
  /* after_delivery: ms_config_set_value took any value; which ones fit depends on the protocol */
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
      ms_config_apply_defaults (h, "smtp");
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
      ms_config_apply_defaults (a, "account");
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
      const MsConfigKey *key = ms_config_find_key (kind, keys[ki]);
      g_autoptr (GError) local = NULL;
      g_autofree char *value = NULL;
      g_autofree char *why = NULL;

      if (key == NULL)
        {
          const MsConfigKey *near = ms_config_closest_key (kind, keys[ki]);
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
      if (!ms_config_set_value (base, key, value, config_dir, &why))
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
