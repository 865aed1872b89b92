/* mailsift - a message on its way in: streamed into the Maildir root's
 * tmp/ (CRLF turned into LF, every other byte as it arrived), fsync'd,
 * with its header block kept in memory for the filter. Memory stays flat
 * whatever the message size. */
#pragma once

#include <glib.h>

/* When a server received a message (IMAP INTERNALDATE), as it says it:
 * local time and the zone as +HHMM (-500 for -0500). */
typedef struct {
  int day, month, year, hour, min, sec, zone;
} MsReceived;

typedef struct {
  char *path;      /* <maildir>/tmp/<unique> */
  char *unique;    /* the Maildir unique name, reused for every copy */
  guint64 size;    /* bytes in the file */
  GBytes *header;  /* the header block, at most MS_HEADER_MAX_BYTES */
  gboolean has_received; /* the source said when it received it: */
  MsReceived received;   /* deliver_to = imap: keeps it */
} MsSpool;

/* Read everything from @fd into a new file in @maildir_root/tmp (the root
 * and its tmp/new/cur are created if needed), fsync it and return it. The
 * file is registered for removal if SIGTERM/SIGINT/SIGHUP arrive before
 * ms_spool_free(). Errors: MS_ERROR_TEMPORARY for I/O trouble (disk full),
 * MS_ERROR_FOLDER when the Maildir cannot be created. Transfer full. */
MsSpool *ms_spool_from_fd (int fd, const char *maildir_root, GError **error);

/* Writing a message piece by piece, as it arrives from a server. */
typedef struct _MsSpoolWriter MsSpoolWriter;

/* Start a spool file in @maildir_root/tmp named @unique (NULL: a new
 * unique name). A journalled delivery passes its recorded name, so a
 * retry after a crash delivers under the same name. Transfer full. */
MsSpoolWriter *ms_spool_writer_new (const char *maildir_root, const char *unique, GError **error);
/* A writer that stores nothing: finish() gives header and size only
 * (path NULL). For dry runs. */
MsSpoolWriter *ms_spool_writer_new_scan (void);
const char *ms_spool_writer_get_unique (MsSpoolWriter *writer);
/* Append bytes (CRLF turned into LF). */
gboolean ms_spool_writer_write (MsSpoolWriter *writer, const char *data, gsize len, GError **error);
/* fsync, close and hand over the file; frees @writer. Transfer full. */
MsSpool *ms_spool_writer_finish (MsSpoolWriter *writer, GError **error);
/* The same without the fsync: the file must go through ms_spool_sync()
 * before it is delivered. Syncing a batch of files after all of them are
 * written costs the file system one journal commit, not one each. */
MsSpool *ms_spool_writer_close (MsSpoolWriter *writer, GError **error);
gboolean ms_spool_sync (MsSpool *spool, GError **error);
/* A copy of @spool whose header block (its first @header_size bytes) is
 * @header instead, the rest streamed byte for byte from @spool's file:
 * for a script's header edits. The copy is a new file next to @spool in
 * tmp/, named after its unique name and @suffix, fsync'd, and registered
 * for removal like @spool; it has @spool's unique name, so it is
 * delivered under the same name. Errors: MS_ERROR_TEMPORARY. Transfer
 * full. */
MsSpool *ms_spool_edited_copy (const MsSpool *spool, gsize header_size, GBytes *header,
                               const char *suffix, GError **error);

/* Give a spool file (in tmp/) another unique name. */
gboolean ms_spool_rename (MsSpool *spool, const char *unique, GError **error);
/* Abandon: removes the partial file. */
void ms_spool_writer_free (MsSpoolWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSpoolWriter, ms_spool_writer_free)

/* Read a whole message from @fd without storing it: its header block
 * and its size as it would be delivered (CRLF counted as LF). For dry
 * runs. Transfer full. */
gboolean ms_message_scan (int fd, GBytes **header_out, guint64 *size_out, GError **error);

/* Remove the spool file (if still there) and free. */
void ms_spool_free (MsSpool *spool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSpool, ms_spool_free)

/* Install the signal handlers that remove registered temp files, then
 * exit with EX_TEMPFAIL. Call once at start-up. */
void ms_spool_install_cleanup (void);

/* Register/unregister a temp file for removal on a fatal signal. */
void ms_cleanup_add (const char *path);
void ms_cleanup_remove (const char *path);
