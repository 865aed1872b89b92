/* mailsift - the durable outbound queue: messages mailsift must send
 * (redirect, vacation, reject, notify). Each entry is a file in
 * <state_dir>/queue/ named by its ID and a row in the state store. The
 * row is committed only after the file and its directory entry are
 * fsync'd, and removed before the file is; a crash in between leaves a
 * file that no row names, never a row without its file, and every flush
 * starts by removing such files. Sending them over SMTP is the queue
 * runner's job. */
#pragma once

#include "config.h"
#include "state.h"

#include <glib.h>

/* Queue a message for @recipients. The content is either the file at
 * @source_path (hard-linked when possible; with @prepend, that text and
 * then the file's bytes: a redirect's trace header) or @content. The row is
 * inserted in the caller's state transaction when one is open (then it
 * counts once that commits), else in a transaction of its own; either
 * way it holds the state store's write lock from before the file exists.
 * @file_out (optional) gets the queue file's path so a caller that rolls
 * back can remove it. Transfer full for the outs. */
gboolean ms_queue_add (MsState *state, const char *reason, const char *envelope_from,
                       const char *const *recipients, const char *origin,
                       const char *source_path, const char *prepend, GBytes *content, char **id_out,
                       char **file_out, GError **error);

typedef struct {
  guint sent;     /* recipients the smarthost accepted */
  guint deferred; /* recipients to try again later */
  guint failed;   /* recipients given up (a notice went to your INBOX) */
} MsQueueStats;

/* Send what is due (everything with @all) through the [smtp] hosts in
 * order, one connection for all messages, failover to the next host when
 * one cannot be reached. First removes the files in the queue folder
 * that no row names. Per recipient: 2xx done; 4xx tried again later
 * (1 min doubling to 1 h); 5xx, or queue_lifetime passed: given up, and
 * a failure notice is delivered into your INBOX. What the smarthost
 * accepted is committed (fsync'd) before the next message is sent, so a
 * crash sends at most one message twice; an entry is removed, row then
 * file, once no recipient is left. Call it outside a state transaction.
 * FALSE (MS_ERROR_TEMPORARY) when the queue cannot be read, or when the
 * state store could not record a message as sent: then it stops there. */
gboolean ms_queue_flush (MsState *state, const MsConfig *config, gboolean all, MsQueueStats *stats,
                         GError **error);

/* What a flush did, for people: "queue: 2 sent, 1 to retry later, 1 given
 * up (a failure notice is in your INBOX)", naming only what happened;
 * "queue: nothing was due" when nothing did. Transfer full. */
char *ms_queue_stats_format (const MsQueueStats *stats);
