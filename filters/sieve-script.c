/* mailsift Sieve engine - compiling a script (stages 1 to 3) and the
 * per-file cache of compiled scripts. */
#include "sieve-script.h"

#include "sieve-parser.h"
#include "sieve-validate.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* "LINE:COL: ..." in script order */
static int
by_position (gconstpointer a, gconstpointer b)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  guint64 lx = g_ascii_strtoull (x, NULL, 10), ly = g_ascii_strtoull (y, NULL, 10);
  const char *cx = strchr (x, ':'), *cy = strchr (y, ':');

  if (lx != ly)
    return lx < ly ? -1 : 1;
  lx = cx ? g_ascii_strtoull (cx + 1, NULL, 10) : 0;
  ly = cy ? g_ascii_strtoull (cy + 1, NULL, 10) : 0;
  return lx < ly ? -1 : lx > ly;
}

/* One file the compiled script was made from (itself or an include). */
typedef struct {
  char *path;
  struct stat st;
} Dep;

static void
dep_clear (gpointer data)
{
  g_free (((Dep *) data)->path);
}

static MsSvScript *
compile_text (const char *text, gsize len, const char *path, const char *personal_dir, const char *global_dir,
              guint depth)
{
  MsSvScript *s = g_new0 (MsSvScript, 1);
  MsSvDiag diag;

  s->path = g_strdup (path ? path : "script");
  s->personal_dir = g_strdup (personal_dir);
  s->global_dir = g_strdup (global_dir);
  s->depth = depth;
  s->errors = g_ptr_array_new_with_free_func (g_free);
  s->warnings = g_ptr_array_new_with_free_func (g_free);
  s->extensions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->files = g_array_new (FALSE, TRUE, sizeof (Dep));
  g_array_set_clear_func (s->files, dep_clear);
  diag.errors = s->errors;
  diag.warnings = s->warnings;
  if (len > MS_SV_MAX_SCRIPT_SIZE)
    {
      ms_sv_diag_error (&diag, 1, 1, "the script is larger than %d bytes", MS_SV_MAX_SCRIPT_SIZE);
      s->commands = g_ptr_array_new ();
      return s;
    }
  s->commands = ms_sv_parse (text, len, &diag);
  /* also after syntax errors: every problem is reported in one pass */
  ms_sv_validate (s, s->errors, s->warnings);
  g_ptr_array_sort (s->errors, by_position);
  g_ptr_array_sort (s->warnings, by_position);
  return s;
}

MsSvScript *
ms_sv_script_compile (const char *text, gsize len, const char *path)
{
  g_autofree char *dir = path ? g_path_get_dirname (path) : g_strdup (".");

  return compile_text (text, len, path, dir, NULL, 0);
}

void
ms_sv_script_free (MsSvScript *s)
{
  if (s == NULL)
    return;
  g_ptr_array_unref (s->commands);
  g_ptr_array_unref (s->errors);
  g_ptr_array_unref (s->warnings);
  g_hash_table_unref (s->extensions);
  if (s->globals)
    g_hash_table_unref (s->globals);
  g_array_unref (s->files);
  g_free (s->personal_dir);
  g_free (s->global_dir);
  g_free (s->path);
  g_free (s);
}

/* ---------------------------------------------------------------- cache */

static GHashTable *cache;     /* path -> MsSvScript */
static GHashTable *compiling; /* paths being compiled: include loops */

static gboolean
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size
         && a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Whether every file @s was compiled from is unchanged. */
static gboolean
still_valid (const MsSvScript *s, const char *personal_dir, const char *global_dir)
{
  if (g_strcmp0 (s->personal_dir, personal_dir) != 0 || g_strcmp0 (s->global_dir, global_dir) != 0
      || s->files->len == 0)
    return FALSE;
  for (guint i = 0; i < s->files->len; i++)
    {
      const Dep *d = &g_array_index (s->files, Dep, i);
      struct stat st;
      if (stat (d->path, &st) != 0 || !same_file (&st, &d->st))
        return FALSE;
    }
  return TRUE;
}

static MsSvScript *
unreadable (const char *path, const char *why, const char *personal_dir, const char *global_dir, guint depth)
{
  MsSvScript *s = compile_text ("", 0, path, personal_dir, global_dir, depth);

  g_ptr_array_add (s->errors, g_strdup_printf ("cannot read the script: %s", why));
  return s;
}

static MsSvScript *
cache_get (const char *path, const char *personal_dir, const char *global_dir, guint depth)
{
  MsSvScript *s = cache ? g_hash_table_lookup (cache, path) : NULL;
  struct stat st;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  if (s && still_valid (s, personal_dir, global_dir))
    return s;
  if (compiling == NULL)
    compiling = g_hash_table_new (g_str_hash, g_str_equal);
  if (stat (path, &st) != 0)
    s = unreadable (path, g_strerror (errno), personal_dir, global_dir, depth);
  else if (st.st_size > MS_SV_MAX_SCRIPT_SIZE)
    s = unreadable (path, "larger than 1 MiB", personal_dir, global_dir, depth);
  else if (!g_file_get_contents (path, &text, &len, &error))
    s = unreadable (path, error->message, personal_dir, global_dir, depth);
  else
    {
      Dep self = { g_strdup (path), st };
      g_hash_table_add (compiling, (gpointer) path);
      s = compile_text (text, len, path, personal_dir, global_dir, depth);
      g_hash_table_remove (compiling, path);
      s->st = st;
      g_array_prepend_val (s->files, self);
    }
  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) ms_sv_script_free);
  g_hash_table_replace (cache, g_strdup (path), s);
  return s;
}

MsSvScript *
ms_sv_script_cache_get (const char *path, const char *personal_dir, const char *global_dir)
{
  g_autofree char *dir = NULL;

  if (personal_dir == NULL)
    personal_dir = dir = g_path_get_dirname (path);
  return cache_get (path, personal_dir, global_dir, 0);
}

gboolean
ms_sv_script_is_compiling (const char *path)
{
  return compiling && g_hash_table_contains (compiling, path);
}

MsSvScript *
ms_sv_script_cache_get_include (const char *path, MsSvScript *parent)
{
  MsSvScript *s;
  struct stat st;

  if (stat (path, &st) != 0)
    return NULL;
  s = cache_get (path, parent->personal_dir, parent->global_dir, parent->depth + 1);
  /* the parent depends on every file the included script was made from */
  for (guint i = 0; i < s->files->len; i++)
    {
      const Dep *d = &g_array_index (s->files, Dep, i);
      Dep copy = { g_strdup (d->path), d->st };
      g_array_append_val (parent->files, copy);
    }
  return s;
}

void
ms_sv_script_cache_clear (void)
{
  g_clear_pointer (&cache, g_hash_table_unref);
}
