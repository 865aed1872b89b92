/* mailsift - configuration: a GKeyFile read through one declarative table
 * of keys. The table also feeds `mailsift check` and the "did you mean"
 * error for unknown keys; mailsift.conf(5) documents the same keys. */
#pragma once

#include <glib.h>

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
  int filter_memory;           /* MiB address space for the filter process */
  int vacation_max_days;       /* upper bound for vacation :days */
  char *log_level;             /* "notice" or "info" / "debug" */
} MsConfig;

typedef enum {
  MS_KEY_STRING,
  MS_KEY_PATH,   /* ~ expanded; relative to the config file's folder */
  MS_KEY_STRV,   /* comma- or semicolon-separated list */
  MS_KEY_INT,
  MS_KEY_CHARS,  /* a short string of punctuation characters */
  MS_KEY_CHOICE, /* one of the words in choices */
} MsKeyType;

typedef struct {
  const char *group;
  const char *name;
  MsKeyType type;
  const char *default_value;   /* in file syntax; NULL = unset */
  gsize offset;                /* into MsConfig */
  int min, max;                /* MS_KEY_INT bounds */
  const char *choices;         /* MS_KEY_CHOICE: "a|b|c" */
  const char *help;
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

/* A config with every default, as if an empty file had been read. */
MsConfig *ms_config_new_default (void);

void ms_config_free (MsConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsConfig, ms_config_free)

/* Edit distance, exported for the unit tests. */
guint ms_config_edit_distance (const char *a, const char *b);
