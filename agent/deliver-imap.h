/* mailsift - deliver_to = imap:ACCOUNT: an APPEND target. */
#pragma once

#include "config.h"
#include "spool.h"

/* A connection to the destination account, opened at the first message;
 * ms_imap_store_append fits MsPipeline.append (folder in UTF-8, created
 * if missing). */
typedef struct _MsImapStore MsImapStore;
MsImapStore *ms_imap_store_new (const MsConfig *config, const MsAccount *target);
gboolean ms_imap_store_append (gpointer store, const char *folder, const char *const *flags,
                               MsSpool *spool, GError **error);
void ms_imap_store_free (MsImapStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsImapStore, ms_imap_store_free)
