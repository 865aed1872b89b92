/* mailsift Sieve engine - a compiled script, and the cache of them.
 *
 * Compiling is lexing, parsing and validating (stages 1 to 3). The result
 * is kept per file and reused while the file (and every file it includes)
 * keeps its inode, size and modification time, so a script is compiled
 * once and run for every message. */
#pragma once

#include <glib.h>
#include <sys/stat.h>

/* Largest script file accepted. */
#define MS_SV_MAX_SCRIPT_SIZE (1024 * 1024)

typedef struct _MsSvScript MsSvScript;
struct _MsSvScript {
  char *path;
  GPtrArray *commands;       /* MsSvNode*, validated */
  GPtrArray *errors;         /* "LINE:COL: error: text" */
  GPtrArray *warnings;       /* "LINE:COL: warning: text" */
  GHashTable *extensions;    /* required extension names (set) */
  gboolean variables;        /* "variables" is required */
  gboolean imap4flags;       /* "imap4flags" is required */
  gboolean needs_body;       /* it reads the body (body, foreverypart,
                              * extracttext, :mime :anychild), here or in
                              * a script it includes: a header-only fetch
                              * is not enough to run it */
  struct stat st;            /* of the file, for the cache */
  char *personal_dir;        /* include :personal looks here */
  char *global_dir;          /* include :global; NULL: none configured */
  GHashTable *globals;       /* names declared with "global"; NULL if none */
  GArray *files;             /* the files it was made from, with their
                              * stat: itself first, then every include */
  guint depth;               /* include nesting while compiling */
};

/* Compile @len bytes of @text. Always returns a script; when its errors
 * array is not empty it must not run. @path names it in messages (may be
 * NULL). Transfer full. */
MsSvScript *ms_sv_script_compile (const char *text, gsize len, const char *path);
void ms_sv_script_free (MsSvScript *script);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSvScript, ms_sv_script_free)

/* Compile the file at @path, or return the cached script when the file
 * did not change. An unreadable file gives a script with one error.
 * Transfer none: the cache owns it (valid until the next call for the
 * same path). */
MsSvScript *ms_sv_script_cache_get (const char *path, const char *personal_dir, const char *global_dir);
/* As ms_sv_script_cache_get, for an include from @parent (@depth
 * levels deep); NULL when the file does not exist. */
MsSvScript *ms_sv_script_cache_get_include (const char *path, MsSvScript *parent);
/* Whether @path is being compiled right now (an include loop). */
gboolean ms_sv_script_is_compiling (const char *path);
/* Forget every cached script. */
void ms_sv_script_cache_clear (void);
