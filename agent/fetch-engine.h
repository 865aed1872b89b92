/* mailsift - the fetch engine's own types, shared by fetch.c and
 * fetch-sift.c (server-side filing). Not for the sources: they see
 * source.h only. */
#pragma once

#include "source.h"

/* One session: the source, and what it removed (keys_reused). */
typedef struct {
  MsFetch *f;
  const MsSourceOps *ops;
  MsSource *src;
  GPtrArray *removed; /* keys, owned */
} Run;

/* One folder's messages, sorted. The arrays hold copies of the listed
 * messages' fields; the keys stay owned by the listing. */
typedef struct {
  const char *folder;
  MsFolderInfo info;
  GArray *todo;     /* MsSourceMsg: new, to fetch */
  GArray *oversize; /* MsSourceMsg: too big, a note is due */
  GArray *expired;  /* MsSourceMsg: keep_days passed */
  GArray *redo;     /* MsSourceMsg: delivered, still to be removed or moved */
} Sorted;

/* @n listed messages by key (borrowed: keys and messages stay @msgs'). */
GHashTable *ms_fetch_by_key (const MsSourceMsg *msgs, guint n);

/* Remove @n messages; where keys are reused, remember them, to forget
 * their records once the removal is done. */
gboolean ms_fetch_remove (Run *run, const MsSourceMsg *msgs, guint n, GError **error);

/* Tell the server what after_delivery says about @n messages that are
 * delivered and recorded (nothing in a dry run). */
gboolean ms_fetch_tell (Run *run, const MsSourceMsg *msgs, guint n, GError **error);

/* fileinto_target = server: file the @n messages of @batch on the server;
 * @need_body gets those also to be delivered here (MsSourceMsg), @whole
 * those fetched whole already (MsFetchItem). */
gboolean ms_fetch_sift (Run *run, const Sorted *s, const MsSourceMsg *batch, guint n, GArray *need_body,
                        GArray *whole, GError **error);
