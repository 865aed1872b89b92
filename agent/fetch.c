#include "source.h"

#include "deliver-maildir.h"
#include "error.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

const MsSourceOps *
ms_source_for (const MsAccount *account)
{
  if (g_strcmp0 (account->protocol, "pop3") == 0)
    return &ms_source_pop3;
  if (g_strcmp0 (account->protocol, "imap") == 0)
    return &ms_source_imap;
  return NULL;
}

char *
ms_fetch_begin (MsFetch *f, const char *folder, const char *uid, GHashTable *journal, GError **error)
{
  const char *recorded = journal ? g_hash_table_lookup (journal, uid) : NULL;
  g_autofree char *name = recorded ? g_strdup (recorded) : ms_maildir_unique_name ();

  if (recorded)
    g_message ("account %s: message %s was being delivered when mailsift stopped; "
               "delivering it again under the same name (no duplicate)", f->account->name, uid);
  if (!ms_state_journal_begin (f->state, f->account->name, folder, uid, name, error))
    return NULL;
  return g_steal_pointer (&name);
}

static void
count_actions (MsFetch *f, const MsPlan *plan)
{
  for (guint i = 0; i < plan->result->actions->len; i++)
    {
      const MsAction *a = plan->result->actions->pdata[i];
      g_autofree char *key = a->kind == MS_ACTION_FILEINTO ? g_strdup (a->target)
                             : a->kind == MS_ACTION_KEEP   ? g_strdup ("INBOX")
                                                           : g_strdup (ms_action_kind_to_string (a->kind));
      gpointer n = g_hash_table_lookup (f->stats.folders, key);
      g_hash_table_replace (f->stats.folders, g_steal_pointer (&key), GUINT_TO_POINTER (GPOINTER_TO_UINT (n) + 1));
    }
}

/* The envelope of a fetched message: no SMTP envelope exists, so the
 * sender is its Return-Path and the recipient your first address. */
static void
fetched_envelope (MsFetch *f, MsSpool *spool, MsEnvelope *envelope, char **sender_out)
{
  gsize hlen;
  const char *h = g_bytes_get_data (spool->header, &hlen);
  g_autoptr (MsHeaderView) view = ms_header_view_new (h, hlen);
  const char *rp = ms_header_view_get_first (view, "Return-Path");

  *sender_out = NULL;
  if (rp)
    {
      while (*rp == ' ' || *rp == '<')
        rp++;
      *sender_out = g_strndup (rp, strcspn (rp, ">"));
    }
  envelope->envelope_from = *sender_out;
  envelope->envelope_to = f->config->addresses && f->config->addresses[0] ? f->config->addresses[0]
                                                                          : f->account->user;
}

void
ms_fetch_dry (MsFetch *f, MsSpool *spool, const char *where)
{
  g_autoptr (MsPlan) plan = NULL;
  g_autofree char *sender = NULL;
  g_autoptr (GString) line = g_string_new (NULL);
  MsEnvelope envelope = { 0 };
  const char *subject;

  fetched_envelope (f, spool, &envelope, &sender);
  plan = ms_pipeline_plan (f->pipeline, spool->header, spool->size, &envelope);
  subject = ms_header_view_get_first (plan->view, "Subject");
  g_string_printf (line, "%s %s: %s \"%s\" ->", f->account->name, where, plan->message_id,
                   subject ? subject : "");
  for (guint i = 0; i < plan->result->actions->len; i++)
    {
      g_autofree char *a = ms_action_format (plan->result->actions->pdata[i]);
      g_string_append_printf (line, "%s %s", i ? ";" : "", a);
    }
  printf ("%s\n", line->str);
  for (guint i = 0; i < plan->result->errors->len; i++)
    printf ("    error: %s\n", (char *) plan->result->errors->pdata[i]);
  for (guint i = 0; i < plan->notes->len; i++)
    printf ("    note: %s\n", (char *) plan->notes->pdata[i]);
  f->stats.messages++;
  f->stats.bytes += spool->size;
}


/* With dedupe_message_id: a message whose Message-ID was delivered in the
 * last 30 days (from any account) is recorded as seen without being
 * delivered again. TRUE when it was such a duplicate (or on error). */
static gboolean
is_duplicate (MsFetch *f, MsSpool *spool, const MsOrigin *origin, GError **error)
{
  gsize hlen;
  const char *h = g_bytes_get_data (spool->header, &hlen);
  g_autoptr (MsHeaderView) view = ms_header_view_new (h, hlen);
  const char *msgid = ms_header_view_get_first (view, "Message-ID");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gboolean found = FALSE;

  if (msgid == NULL)
    return FALSE;
  if (!ms_state_msgid_delivered (f->state, msgid, f->account->name, now - 30 * 86400, &found, error))
    return TRUE;
  if (!found)
    return FALSE;
  if (!ms_state_begin (f->state, error))
    return TRUE;
  if (!ms_state_seen_record (f->state, origin->account, origin->folder, origin->uid, now, msgid,
                             origin->server_size, error)
      || !ms_state_journal_end (f->state, origin->account, origin->folder, origin->uid, error)
      || !ms_state_commit (f->state, error))
    {
      ms_state_rollback (f->state);
      return TRUE;
    }
  g_info ("account %s: message %s was already delivered (from another account); not delivered "
          "again", f->account->name, msgid);
  f->stats.duplicates++;
  return TRUE;
}

static MsFetchOutcome
deliver_one (MsFetch *f, MsSpool *spool, const MsOrigin *origin, GError **error)
{
  g_autoptr (MsPlan) plan = NULL;
  g_autofree char *summary = NULL;
  MsEnvelope envelope = { 0 };
  g_autofree char *sender = NULL;
  g_autoptr (GError) local = NULL;

  fetched_envelope (f, spool, &envelope, &sender);
  if (g_strcmp0 (f->config->dedupe_message_id, "yes") == 0 && is_duplicate (f, spool, origin, &local))
    {
      if (local == NULL)
        return MS_FETCH_DELIVERED;
      g_propagate_error (error, g_steal_pointer (&local));
      return MS_FETCH_STOP;
    }
  plan = ms_pipeline_plan (f->pipeline, spool->header, spool->size, &envelope);
  for (guint i = 0; i < plan->result->errors->len; i++)
    g_warning ("account %s: message %s: %s", f->account->name, plan->message_id,
               (char *) plan->result->errors->pdata[i]);
  for (guint i = 0; i < plan->notes->len; i++)
    g_message ("account %s: message %s: %s", f->account->name, plan->message_id,
               (char *) plan->notes->pdata[i]);
  if (!ms_pipeline_execute (f->pipeline, plan, spool, origin, &summary, &local))
    {
      g_prefix_error (&local, "account %s: message %s: ", f->account->name, plan->message_id);
      f->stats.failed++;
      if (local->code == MS_ERROR_TEMPORARY)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return MS_FETCH_STOP;
        }
      /* not delivered: it stays on the server, and in the journal */
      g_warning ("%s", local->message);
      return MS_FETCH_KEPT_ON_SERVER;
    }
  g_info ("account %s: message %s: %s", f->account->name, plan->message_id, summary);
  count_actions (f, plan);
  f->stats.messages++;
  f->stats.bytes += spool->size;
  return MS_FETCH_DELIVERED;
}

void
ms_fetch_forget_journal (MsFetch *f, const char *folder, GHashTable *journal, GHashTable *present)
{
  GHashTableIter iter;
  gpointer uid;

  g_hash_table_iter_init (&iter, journal);
  while (g_hash_table_iter_next (&iter, &uid, NULL))
    if (!g_hash_table_contains (present, uid))
      {
        ms_state_journal_end (f->state, f->account->name, folder, uid, NULL);
        g_hash_table_iter_remove (&iter);
      }
}

MsFetchOutcome
ms_fetch_deliver (MsFetch *f, MsSpool *spool, const MsOrigin *origin, GError **error)
{
  int lock = -1;
  MsFetchOutcome outcome;

  /* accounts fetch in parallel: the check and the record of a Message-ID
   * must not interleave, or both copies get through */
  if (g_strcmp0 (f->config->dedupe_message_id, "yes") == 0)
    lock = ms_lock_file (f->config->state_dir, "dedupe.lock", TRUE, NULL, NULL);
  outcome = deliver_one (f, spool, origin, error);
  if (lock >= 0)
    close (lock);
  return outcome;
}
