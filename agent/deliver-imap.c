/* mailsift - deliver_to = imap:ACCOUNT: kept and filed messages are
 * appended to that account's folders instead of the local Maildir. */
#include "deliver-imap.h"

#include "error.h"
#include "imap-session.h"
#include "utf7.h"

#include <gio/gio.h>

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

/* append_file's own result: the spool file could not be read */
#define APPEND_ERROR_FILE (-1)

/* libetpan 1.9.4 exports this without declaring it in its headers: the
 * APPEND command up to its literal's size, "{N}" included. */
int mailimap_append_send (mailstream *fd, const char *mailbox, struct mailimap_flag_list *flag_list,
                          struct mailimap_date_time *date_time, size_t literal_size);

/* The bytes the spool file @path makes on the wire: every LF that has
 * no CR before it becomes CRLF (IMAP wants CRLF; the spool has LF). */
static gboolean
wire_size (const char *path, guint64 *size_out, GError **error)
{
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  char buf[65536];
  guint64 size = 0;
  char prev = 0;
  gssize n;

  in = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (in == NULL)
    return FALSE;
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, error)) > 0)
    for (gssize i = 0; i < n; prev = buf[i++])
      size += 1 + (buf[i] == '\n' && prev != '\r');
  *size_out = size;
  return n == 0;
}

/* Send the spool file @path as the literal (@size bytes on the wire). */
static gboolean
send_literal (mailstream *stream, const char *path, GError **error)
{
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  char buf[65536], out[2 * 65536];
  char prev = 0;
  gssize n;

  in = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (in == NULL)
    return FALSE;
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, error)) > 0)
    {
      gsize o = 0;
      for (gssize i = 0; i < n; prev = buf[i++])
        {
          if (buf[i] == '\n' && prev != '\r')
            out[o++] = '\r';
          out[o++] = buf[i];
        }
      if (mailstream_write (stream, out, o) != (ssize_t) o)
        return FALSE;
    }
  return n == 0;
}

/* The server's answer to the command just sent: its tagged response. */
static int
tagged_answer (mailimap *imap)
{
  struct mailimap_response *response = NULL;
  int r, type;

  r = mailimap_parse_response (imap, &response);
  if (r != MAILIMAP_NO_ERROR)
    return r;
  type = response->rsp_resp_done->rsp_type == MAILIMAP_RESP_DONE_TYPE_TAGGED
           ? response->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type
           : MAILIMAP_RESP_COND_STATE_BAD;
  mailimap_response_free (response);
  return type == MAILIMAP_RESP_COND_STATE_OK ? MAILIMAP_NO_ERROR : MAILIMAP_ERROR_APPEND;
}

/* One APPEND of the spool file, streamed from the file: the message is
 * never held in memory whole. libetpan's mailimap_append() takes it
 * only as one buffer, so the steps are taken here with its parts: the
 * command up to "{N}", the server's "+" (or its refusal), the literal,
 * and the tagged answer. */
static int
append_file (mailimap *imap, const char *mailbox, struct mailimap_flag_list *flags,
             struct mailimap_date_time *date, const MsSpool *spool, GError **error)
{
  guint64 size;
  const char *line;
  int r;

  if (!wire_size (spool->path, &size, error))
    return APPEND_ERROR_FILE;
  if ((r = mailimap_send_current_tag (imap)) != MAILIMAP_NO_ERROR
      || (r = mailimap_append_send (imap->imap_stream, mailbox, flags, date, size)) != MAILIMAP_NO_ERROR)
    return r;
  if (mailstream_flush (imap->imap_stream) == -1 || (line = mailimap_read_line (imap)) == NULL)
    return MAILIMAP_ERROR_STREAM;
  if (line[0] != '+')
    return tagged_answer (imap); /* refused before the message was sent */
  if (!send_literal (imap->imap_stream, spool->path, error))
    return error && *error ? APPEND_ERROR_FILE : MAILIMAP_ERROR_STREAM;
  if (mailstream_write (imap->imap_stream, "\r\n", 2) != 2 || mailstream_flush (imap->imap_stream) == -1
      || mailimap_read_line (imap) == NULL)
    return MAILIMAP_ERROR_STREAM;
  return tagged_answer (imap);
}

gboolean
ms_imap_store_append (gpointer data, const char *folder, const char *const *flags, MsSpool *spool,
                      GError **error)
{
  MsImapStore *s = data;
  g_autofree char *mailbox = ms_utf7_imap_encode (folder);
  g_autoptr (GError) local = NULL;
  int r = MAILIMAP_NO_ERROR;

  if (mailbox == NULL)
    mailbox = g_strdup ("INBOX");
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
      r = append_file (s->im.imap, mailbox, list, date, spool, &local);
      mailimap_flag_list_free (list);
      if (date)
        mailimap_date_time_free (date);
      if (r == APPEND_ERROR_FILE)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "deliver_to = imap:%s: cannot read %s: %s",
                       s->target->name, spool->path, local ? local->message : "?");
          ms_imap_session_close (&s->im, FALSE);
          return FALSE;
        }
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
