/* mailsift - deliver_to = imap:ACCOUNT: kept and filed messages are
 * appended to that account's folders instead of the local Maildir. */
#include "deliver-imap.h"

#include "error.h"
#include "imap-session.h"
#include "utf7.h"

#include <string.h>

struct _MsImapStore {
  const MsAccount *target;
  MsImapSession im; /* opened at the first message */
};

MsImapStore *
ms_imap_store_new (const MsConfig *config, const MsAccount *target)
{
  MsImapStore *s = g_new0 (MsImapStore, 1);

  s->target = target;
  return s;
}

void
ms_imap_store_free (MsImapStore *s)
{
  if (s == NULL)
    return;
  ms_imap_session_close (&s->im, TRUE);
  g_free (s);
}

static struct mailimap_flag_list *
append_flags (const char *const *flags)
{
  struct mailimap_flag_list *list = mailimap_flag_list_new_empty ();

  for (guint i = 0; flags && flags[i]; i++)
    {
      const char *f = flags[i];
      struct mailimap_flag *flag =
        g_ascii_strcasecmp (f, "\\Seen") == 0       ? mailimap_flag_new_seen ()
        : g_ascii_strcasecmp (f, "\\Answered") == 0 ? mailimap_flag_new_answered ()
        : g_ascii_strcasecmp (f, "\\Flagged") == 0  ? mailimap_flag_new_flagged ()
        : g_ascii_strcasecmp (f, "\\Deleted") == 0  ? mailimap_flag_new_deleted ()
        : g_ascii_strcasecmp (f, "\\Draft") == 0    ? mailimap_flag_new_draft ()
        : f[0] == '\\'                              ? mailimap_flag_new_flag_extension (strdup (f + 1))
                                                     : mailimap_flag_new_flag_keyword (strdup (f));
      mailimap_flag_list_add (list, flag);
    }
  return list;
}

gboolean
ms_imap_store_append (gpointer data, const char *folder, const char *const *flags, MsSpool *spool,
                      GError **error)
{
  MsImapStore *s = data;
  g_autofree char *mailbox = ms_utf7_imap_encode (folder);
  g_autofree char *text = NULL;
  g_autoptr (GString) wire = NULL;
  g_autoptr (GError) local = NULL;
  gsize len;
  int r = MAILIMAP_NO_ERROR;

  if (mailbox == NULL)
    mailbox = g_strdup ("INBOX");
  if (!g_file_get_contents (spool->path, &text, &len, &local))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "cannot read %s: %s", spool->path, local->message);
      return FALSE;
    }
  /* IMAP wants CRLF line ends; the spool file has LF */
  wire = g_string_sized_new (len + len / 30 + 2);
  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
        g_string_append_c (wire, '\r');
      g_string_append_c (wire, text[i]);
    }
  if (s->im.imap == NULL && !ms_imap_session_open (&s->im, s->target, &local))
    {
      ms_imap_session_close (&s->im, FALSE);
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "deliver_to = imap:%s: %s",
                   s->target->name, local->message);
      return FALSE;
    }
  for (int attempt = 0; attempt < 2; attempt++)
    {
      struct mailimap_flag_list *list = append_flags (flags);
      /* the date the source server received it, not today's */
      const MsReceived *d = &spool->received;
      struct mailimap_date_time *date = spool->has_received
                                          ? mailimap_date_time_new (d->day, d->month, d->year, d->hour,
                                                                    d->min, d->sec, d->zone)
                                          : NULL;
      r = mailimap_append (s->im.imap, mailbox, list, date, wire->str, wire->len);
      mailimap_flag_list_free (list);
      if (date)
        mailimap_date_time_free (date);
      if (r == MAILIMAP_NO_ERROR)
        return TRUE;
      /* [TRYCREATE]: a folder the destination does not have yet */
      if (attempt == 0 && r == MAILIMAP_ERROR_APPEND
          && mailimap_create (s->im.imap, mailbox) == MAILIMAP_NO_ERROR)
        {
          mailimap_subscribe (s->im.imap, mailbox);
          g_message ("account %s: created the folder %s", s->target->name, folder);
          continue;
        }
      break;
    }
  ms_imap_fail (&s->im, r, "APPEND", error);
  g_prefix_error (error, "deliver_to = imap:%s: ", s->target->name);
  /* a broken connection is opened again for the next message */
  ms_imap_session_close (&s->im, FALSE);
  return FALSE;
}
