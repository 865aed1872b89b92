/* mailsift - the durable outbound queue: messages mailsift must send
 * (redirect, vacation, reject, notify). Each entry is a file in
 * <state_dir>/queue/, fsync'd before its row goes into the state store;
 * a crash in between leaves an orphan file, never a row without a file.
 * Sending them over SMTP is the queue runner's job. */
#pragma once

#include "config.h"
#include "state.h"

#include <glib.h>

/* Queue a message for @recipients. The content is either the file at
 * @source_path (hard-linked when possible; with @prepend, that text and
 * then the file's bytes: a redirect's trace header) or @content. The row is inserted in the caller's transaction.
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
 * one cannot be reached. Per recipient: 2xx done; 4xx tried again later
 * (1 min doubling to 1 h); 5xx, or queue_lifetime passed: given up, and
 * a failure notice is delivered into your INBOX. An entry is removed
 * once no recipient is left. FALSE only when the queue cannot be read. */
gboolean ms_queue_flush (MsState *state, const MsConfig *config, gboolean all, MsQueueStats *stats,
                         GError **error);
