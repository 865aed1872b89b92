/* mailsift - configuration: a GKeyFile read through one declarative table
 * of keys. The table also feeds `mailsift check` and the "did you mean"
 * error for unknown keys; mailsift.conf(5) documents the same keys. The
 * table and the parsing of values are in config-keys.c, reading and
 * checking the file in config.c. */
#pragma once

#include <glib.h>

/* ASan reserves terabytes of address space for its shadow memory, so a
 * filter process under RLIMIT_AS cannot even start in an ASan build. Test
 * builds (configure --enable-sanitizers defines MS_TEST_BUILD) accept
 * filter_memory = 0 for "no limit", and an ASan build has 0 as default so
 * its tests run the real filter process. Normal builds refuse 0. */
#if defined __SANITIZE_ADDRESS__
#define MS_ASAN_BUILD 1
#elif defined __has_feature
#if __has_feature (address_sanitizer)
#define MS_ASAN_BUILD 1
#endif
#endif
#if defined MS_TEST_BUILD || defined MS_ASAN_BUILD
#define MS_FILTER_MEMORY_UNLIMITED_OK 1
#endif
#ifdef MS_ASAN_BUILD
#define MS_FILTER_MEMORY_DEFAULT_MIB 0
#else
#define MS_FILTER_MEMORY_DEFAULT_MIB 512
#endif
#define MS_FILTER_MEMORY_DEFAULT G_STRINGIFY (MS_FILTER_MEMORY_DEFAULT_MIB)

/* The values of the MS_KEY_CHOICE keys: each enum has its constants in
 * the order of the words in the key's choices ("imap|pop3": IMAP is 0),
 * since the loader stores the index of the word (tests/unit-config.c
 * checks that they agree). A key without a default that the file does
 * not set is -1. ms_config_choice_word gives the word back. */

/* protocol: imap | pop3. UNSET: the key is missing (it has no default). */
typedef enum {
  MS_PROTOCOL_UNSET = -1,
  MS_PROTOCOL_IMAP,
  MS_PROTOCOL_POP3,
} MsProtocol;

/* tls: implicit | starttls | none */
typedef enum {
  MS_TLS_IMPLICIT, /* TLS from the first byte (imaps 993, pop3s 995, smtps 465) */
  MS_TLS_STARTTLS, /* plain first, then the protocol's STARTTLS/STLS */
  MS_TLS_NONE,     /* plaintext: only where the caller has allowed it */
} MsTlsMode;

/* fileinto_target: local | server */
typedef enum {
  MS_FILEINTO_LOCAL,
  MS_FILEINTO_SERVER,
} MsFileintoTarget;

/* oversize: skip | fetch */
typedef enum {
  MS_OVERSIZE_SKIP,
  MS_OVERSIZE_FETCH,
} MsOversize;

/* [smtp NAME] auth: auto | plain | login | xoauth2 */
typedef enum {
  MS_SMTP_AUTH_AUTO,
  MS_SMTP_AUTH_PLAIN,
  MS_SMTP_AUTH_LOGIN,
  MS_SMTP_AUTH_XOAUTH2,
} MsSmtpAuth;

/* sieve_engine: mailsift | libsieve */
typedef enum {
  MS_SIEVE_ENGINE_MAILSIFT,
  MS_SIEVE_ENGINE_LIBSIEVE,
} MsSieveEngine;

/* spamtest_type: score | strlen */
typedef enum {
  MS_SPAMTEST_SCORE,
  MS_SPAMTEST_STRLEN,
} MsSpamtestType;

/* log_level: notice | info | debug */
typedef enum {
  MS_LOG_LEVEL_NOTICE,
  MS_LOG_LEVEL_INFO,
  MS_LOG_LEVEL_DEBUG,
} MsLogLevel;

/* log: stderr | syslog */
typedef enum {
  MS_LOG_TO_STDERR,
  MS_LOG_TO_SYSLOG,
} MsLogTarget;

/* smtp_balance: failover | round-robin */
typedef enum {
  MS_SMTP_BALANCE_FAILOVER,
  MS_SMTP_BALANCE_ROUND_ROBIN,
} MsSmtpBalance;

/* after_delivery: keep | seen | delete | move:FOLDER (FOLDER in
 * move_folder). INVALID: none of these, only while the file is read. */
typedef enum {
  MS_AFTER_DELIVERY_INVALID = -1,
  MS_AFTER_DELIVERY_KEEP,
  MS_AFTER_DELIVERY_SEEN,
  MS_AFTER_DELIVERY_DELETE,
  MS_AFTER_DELIVERY_MOVE,
} MsAfterDelivery;

/* deliver_to: maildir | imap:ACCOUNT (ACCOUNT in deliver_to_account).
 * INVALID: neither, only while the file is read. */
typedef enum {
  MS_DELIVER_TO_INVALID = -1,
  MS_DELIVER_TO_MAILDIR,
  MS_DELIVER_TO_IMAP,
} MsDeliverTo;

/* One [account NAME] group: a mailbox to fetch from. */
typedef struct {
  char *name;
  MsProtocol protocol;        /* imap | pop3 */
  char *host;
  int port;                   /* 0: the protocol's port for the tls mode */
  MsTlsMode tls;              /* implicit | starttls | none */
  gboolean allow_plaintext;   /* yes | no: tls = none to a non-loopback host */
  char *ca_file;
  char *pin_sha256;
  char *user;
  char *password_command;     /* argv, run without a shell; first line is the secret */
  char *oauth2_token_command; /* likewise, for XOAUTH2 */
  int command_timeout;        /* seconds either command may run; 0 in the file: [general] */
  char **folders;             /* IMAP folders to fetch; default INBOX */
  MsAfterDelivery after_delivery; /* keep | seen | delete | move:FOLDER */
  char *move_folder;          /* after_delivery = move:FOLDER: the FOLDER; else NULL */
  int keep_days;              /* delete from the server N days after fetching; 0 = never */
  char *script;               /* per-account Sieve script; NULL = [general] script */
  int poll_interval;          /* seconds between polls in `run` */
  gboolean idle;              /* yes | no */
  int idle_keepalive;         /* seconds between DONE/IDLE liveness checks */
  MsFileintoTarget fileinto_target; /* local | server: where Sieve fileinto puts mail (IMAP) */
  MsDeliverTo deliver_to;     /* maildir | imap:ACCOUNT: where kept and filed mail goes */
  char *deliver_to_account;   /* deliver_to = imap:ACCOUNT: the ACCOUNT; NULL for maildir */
  gboolean fetch;             /* yes | no: no = only a deliver_to destination, never fetched */
  int max_message_size;       /* KiB; 0 = no limit */
  MsOversize oversize;        /* skip | fetch: what to do above max_message_size */
  int timeout;                /* seconds for connect and each network read */
  int fetch_deadline;         /* seconds one fetch may take; 0 = no limit */
} MsAccount;

/* One [smtp NAME] group: a smarthost for the outbound queue. Several
 * groups are tried in file order (failover). */
typedef struct {
  char *name;
  char *host;
  int port;                   /* 0: 465 for implicit TLS, 587 otherwise */
  MsTlsMode tls;              /* implicit | starttls | none */
  gboolean allow_plaintext;
  char *ca_file;
  char *pin_sha256;
  char *user;                 /* NULL: no AUTH */
  char *password_command;
  char *oauth2_token_command;
  int command_timeout;        /* as for accounts */
  MsSmtpAuth auth;            /* auto | plain | login | xoauth2 */
  int timeout;
} MsSmtpHost;

typedef struct {
  char *path;                  /* file read, NULL when none exists (defaults) */
  /* [general] */
  char *maildir;               /* Maildir root; INBOX lives here */
  char *script;                /* the user's Sieve script; NULL = keep all */
  char **addresses;            /* the user's own addresses (vacation, loops) */
  char *subaddress_separator;  /* characters that start a :detail, e.g. "+" */
  char *folder_separator;      /* hierarchy separator in fileinto names */
  char *state_dir;             /* state.db and queue/ */
  int filter_timeout;          /* seconds of wall-clock per message in Sieve */
  int filter_memory;           /* MiB address space for the filter process; 0 (test builds): no limit */
  int command_timeout;         /* seconds a password/token command may run */
  int vacation_max_days;       /* upper bound for vacation :days */
  gboolean dedupe_message_id;  /* yes | no: a Message-ID fetched from two accounts arrives once */
  MsSieveEngine sieve_engine;  /* mailsift | libsieve */
  char *spamtest_header;       /* Sieve spamtest: the scanner's header */
  MsSpamtestType spamtest_type; /* score | strlen */
  char *spamtest_max;          /* the score that means certainly spam */
  char *virustest_header;      /* Sieve virustest: the scanner's header */
  char *virustest_max;         /* the score that means certainly infected */
  char *sieve_dir;             /* include :personal; NULL: the script's folder */
  char *sieve_global_dir;      /* include :global */
  MsLogLevel log_level;        /* notice | info | debug */
  MsLogTarget log;             /* stderr | syslog */
  GPtrArray *accounts;         /* MsAccount*, in file order */
  GPtrArray *smtp;             /* MsSmtpHost*, in file order */
  int queue_lifetime;          /* days a queued message is retried */
  MsSmtpBalance smtp_balance;  /* failover | round-robin: how the [smtp NAME] hosts are used */
  int max_redirects;           /* redirects per message */
} MsConfig;

typedef enum {
  MS_KEY_STRING,
  MS_KEY_PATH,   /* ~ expanded; relative to the config file's folder */
  MS_KEY_STRV,   /* comma- or semicolon-separated list */
  MS_KEY_INT,
  MS_KEY_CHARS,  /* a short string of punctuation characters */
  MS_KEY_CHOICE, /* one of the words in choices, stored as its index (an enum above) */
  MS_KEY_BOOL,   /* yes or no, stored as a gboolean */
  MS_KEY_CHOICE_ARG, /* as CHOICE, where a word with a colon takes an argument (move:FOLDER)
                      * that goes to the string at arg_offset; a value that is none of the
                      * words is -1, for the checks of the whole group to report */
} MsKeyType;

typedef struct {
  const char *group;           /* "general", "account" or "smtp" for [account|smtp NAME] */
  const char *name;
  MsKeyType type;
  const char *default_value;   /* in file syntax; NULL = unset */
  gsize offset;                /* into MsConfig, or MsAccount for "account" */
  int min, max;                /* MS_KEY_INT bounds */
  const char *choices;         /* MS_KEY_CHOICE, MS_KEY_CHOICE_ARG: "a|b|c" */
  const char *help;
  gsize arg_offset;            /* MS_KEY_CHOICE_ARG: the char * for the argument */
} MsConfigKey;

/* The table, terminated by an entry with name NULL. */
extern const MsConfigKey ms_config_keys[];

/* Where the config is read from when no -c is given:
 * $XDG_CONFIG_HOME/mailsift/config. Transfer full. */
char *ms_config_default_path (void);

/* Read and validate @path (NULL: the default path, which may be absent).
 * Every problem found is appended to @problems (if not NULL) as
 * "FILE:LINE: text" strings, so `check` can list them all; the first one
 * is also returned in @error (MS_ERROR_CONFIG) and NULL returned.
 * A file that others may read or write is refused. Transfer full. */
MsConfig *ms_config_load (const char *path, GPtrArray *problems, GError **error);

/* The word in the choices of the MS_KEY_CHOICE (or _ARG) key @key of
 * @group ("general", "account" or "smtp") that @value stands for, for
 * messages: ms_config_choice_word ("account", "tls", MS_TLS_NONE) is
 * "none", and for after_delivery MS_AFTER_DELIVERY_MOVE "move:FOLDER". */
const char *ms_config_choice_word (const char *group, const char *key, int value);

/* The index of @word in the choices of that key (its enum value), or -1
 * when it is not one of them ("move:Archive" is the word "move:FOLDER"). */
int ms_config_choice_value (const char *group, const char *key, const char *word);

/* A config with every default, as if an empty file had been read. */
MsConfig *ms_config_new_default (void);

void ms_config_free (MsConfig *config);

/* The account named @name, or NULL. */
MsAccount *ms_config_find_account (const MsConfig *config, const char *name);

/* The port of a smarthost: the configured one, or 465 / 587. */
int ms_smtp_host_port (const MsSmtpHost *host);

/* The port to use: the configured one, or the protocol's default for its
 * TLS mode (imap 143/993, pop3 110/995). */
int ms_account_port (const MsAccount *account);

/* command_timeout when nothing says otherwise. */
#define MS_COMMAND_TIMEOUT_DEFAULT 30

/* Run password_command (or oauth2_token_command) without a shell, within
 * the account's command_timeout, and return the first line of its output.
 * Never logged. Errors: MS_ERROR_ACCOUNT (the command cannot be run or
 * failed; its stderr is in the message), MS_ERROR_TEMPORARY (it did not
 * finish in time and was killed). Transfer full. */
char *ms_account_secret (const MsAccount *account, gboolean oauth2, GError **error);

/* Run @command (no shell, through ms_extcmd_run with @timeout_s; 0 means
 * MS_COMMAND_TIMEOUT_DEFAULT) and return the first line of its output;
 * @owner ("account work") and @what ("password_command") name it in
 * errors, as for ms_account_secret. Transfer full. */
char *ms_config_run_secret (const char *owner, const char *what, const char *command, int timeout_s,
                            GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsConfig, ms_config_free)

/* Edit distance, exported for the unit tests. */
guint ms_config_edit_distance (const char *a, const char *b);
