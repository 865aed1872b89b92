/* mailsift - Maildir and Maildir++ delivery.
 *
 * A folder "Lists.dev" lives in <root>/.Lists.dev/ (names encoded in IMAP
 * modified UTF-7, as Dovecot does); INBOX is the root. A message is
 * delivered by hard-linking the fsync'd spool file into new/ (or cur/ with
 * ":2,FLAGS" when it has flags) and fsyncing the directory, so every copy
 * of one message shares its bytes and nothing half-written ever appears
 * in new/ or cur/. Where link() cannot work (FAT, some FUSE file systems,
 * another file system), the copy is written under a new unique name in
 * the folder's tmp/, fsync'd and renamed into place. */
#pragma once

#include <glib.h>

/* The directory for Sieve folder @folder under @root, with @separator the
 * hierarchy separator used in names (e.g. "." or "/"). Refuses (MS_ERROR_FOLDER)
 * names that are empty, have empty, "." or ".." components, control
 * characters, a '/' that is not the separator, or that are too long.
 * Transfer full. */
char *ms_maildir_folder_dir (const char *root, const char *folder, const char *separator,
                             GError **error);

/* Create @dir with tmp/, new/ and cur/ (mode 0700) if missing, and fsync
 * the parents of what was created. @is_subfolder adds Maildir++'s empty
 * "maildirfolder" file. The Maildir root may be a symbolic link (or be
 * reached through one); a subfolder, tmp/, new/ or cur/ that is a link,
 * or not a directory, is refused with MS_ERROR_FOLDER naming it, here
 * and by every function below that writes into a folder. */
gboolean ms_maildir_ensure (const char *dir, gboolean is_subfolder, GError **error);

/* ms_maildir_ensure (@root) and open its tmp/ without following a link:
 * a file descriptor the caller closes, or -1 with @error set. */
int ms_maildir_open_tmp (const char *root, GError **error);

/* A new unique name: "SECONDS.M<usec>P<pid>Q<n>.<host>", host with '/'
 * and ':' escaped as Maildir says. Transfer full. */
char *ms_maildir_unique_name (void);

/* Maildir info flags for IMAP flags: \Draft D, \Flagged F, \Answered R,
 * \Seen S, \Deleted T, sorted; keywords are not representable and are
 * skipped. Returns "" when nothing maps. Transfer full. */
char *ms_maildir_info_flags (const char *const *imap_flags);

typedef struct {
  const char *dir;          /* from ms_maildir_folder_dir (or the root) */
  gboolean is_subfolder;
  const char *const *flags; /* IMAP flags or NULL */
  char *delivered_path;     /* out: where the copy went (transfer full) */
} MsMaildirTarget;

/* Deliver the spool file at @spool_path (already fsync'd, inside a
 * Maildir tmp/) into every target, all or nothing: on error the copies
 * made so far are removed again. Errors as ms_set_errno_error maps them
 * (MS_ERROR_TEMPORARY for disk full / I/O).
 *
 * Each new/ or cur/ directory written to is fsync'd before this returns,
 * unless @sync_later is given: then its path is added to that set (of
 * owned strings) and the caller must ms_fsync_dir() each one before it
 * counts the copies as delivered. A batch of messages then costs one
 * directory fsync per folder instead of one per message. */
gboolean ms_maildir_deliver (const char *spool_path, const char *unique, MsMaildirTarget *targets,
                             guint n_targets, GHashTable *sync_later, GError **error);

/* Remove files older than 36 hours from @dir/tmp (Maildir's rule), left
 * by a crash, and at once those that a mailsift on this host left in a
 * process that is gone (its unique name has the host and the pid). Only
 * regular files owned by this user whose names begin as Maildir unique
 * names do ("SECONDS."); a tmp/ that is a symbolic link is not swept at
 * all. Returns how many were removed. */
guint ms_maildir_sweep_tmp (const char *dir);

/* fsync a directory by path. */
gboolean ms_fsync_dir (const char *dir, GError **error);

/* Make @n files or directories (@paths) durable, data and entries, as a
 * batch: where two or more are on one filesystem, one syncfs(2) of that
 * filesystem instead of one fsync each (a syncfs costs about as much as
 * two fsyncs, and a batch has up to 128 files); a lone one is fsync'd.
 * @crash_point, if not NULL, is passed once per sync call. */
gboolean ms_sync_many (const char *const *paths, guint n, const char *crash_point, GError **error);

/* mkdir -p @dir (mode 0700), durably: each directory it makes has its
 * parent fsync'd, so the new entry survives a power loss. A directory
 * that exists is left alone. Errors are MS_ERROR_TEMPORARY. */
gboolean ms_mkdir_synced (const char *dir, GError **error);

/* Put @content (a whole message, LF line ends) into the INBOX at @root,
 * durably: a note from mailsift itself. */
gboolean ms_maildir_add_message (const char *root, GBytes *content, GError **error);
