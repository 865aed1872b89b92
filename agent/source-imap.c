/* mailsift - IMAP source: the protocol steps the fetch engine uses
 * (fetch.c), and IDLE.
 *
 * SELECT gives UIDVALIDITY (state keys are "UIDVALIDITY:UID"); a listing
 * is FETCH 1:* (UID RFC822.SIZE); a batch is one UID FETCH of
 * BODY.PEEK[], each body streamed through libetpan's body handler into a
 * spool file of its own (memory stays flat whatever the size; the att
 * handler closes the file once it learns the UID). The server is told in
 * one command per kind: \Seen, \Deleted + UID EXPUNGE (only of our own
 * UIDs, and only with UIDPLUS), UID COPY or UID MOVE. A message the
 * server will not return (a tagged NO) holds up no other: it is
 * reported, counted as failed and left on the server for the next run. */
#include "source.h"

#include "crash.h"
#include "error.h"
#include "header.h"
#include "imap-session.h"
#include "net.h"
#include "utf7.h"

#include <libetpan/libetpan.h>
#include <string.h>

typedef struct _MsSource Imap;
struct _MsSource {
  MsImapSession s;
  MsFetch *fetch;
  /* while a batch streams in: */
  GHashTable *received;  /* UID -> MsSpool; NULL: not fetching bodies */
  gboolean header_only;  /* dry run: keep the header, store nothing */
  MsSpoolWriter *writer; /* the body being received */
  GError *write_error;
  /* the size check of whole bodies (not in header_only) */
  const char *folder;
  GHashTable *sizes;      /* UID -> RFC822.SIZE of the messages asked for */
  GHashTable *mismatched; /* UIDs whose body was not that size */
  guint64 body_bytes;     /* of the body being received, as RFC822.SIZE counts */
  gboolean body_cr;       /* its last byte was CR */
  guint32 validity;       /* of the folder selected */
};

/* What the server may send while a command's answers hold up to @lines
 * lines (a listing: one per message) besides the usual. */
static void
expect_lines (Imap *im, guint64 lines)
{
  MsNetLimits l;

  ms_net_limits_init (&l, TRUE);
  l.lines += lines;
  l.text += lines * 256;
  l.literals += lines * 1024; /* a header field per message */
  ms_net_set_limits (im->s.imap->imap_stream, &l);
}

/* Back to the limits for any command. */
static void
default_limits (Imap *im)
{
  expect_lines (im, 0);
}

/* While the bodies (or headers) of @n messages come in: no literal
 * larger than the largest size the server gave for them, plus a little,
 * nor than max_message_size (unless oversize = fetch), and no more
 * literal bytes than they add up to. A message of unknown size (0) lifts
 * the bound to max_message_size alone. */
static void
body_limits (Imap *im, const MsSourceMsg *msgs, guint n)
{
  const MsAccount *a = im->fetch->account;
  guint64 limit = a->oversize != MS_OVERSIZE_FETCH ? (guint64) a->max_message_size * 1024 : 0;
  guint64 largest = 0, total = 0;
  gboolean unknown = FALSE;
  MsNetLimits l;

  for (guint i = 0; i < n; i++)
    {
      unknown |= msgs[i].size == 0;
      largest = MAX (largest, (guint64) msgs[i].size + MS_FETCH_SIZE_SLACK);
      total += (guint64) msgs[i].size + MS_FETCH_SIZE_SLACK;
    }
  ms_net_limits_init (&l, TRUE);
  l.literal = unknown ? limit : limit ? MIN (largest, limit) : largest;
  l.literals = unknown ? 0 : total;
  ms_net_set_limits (im->s.imap->imap_stream, &l);
}

/* The INTERNALDATE of a FETCH response, if it has one. */
static gboolean
att_received (struct mailimap_msg_att *att, MsReceived *out)
{
  for (clistiter *i = clist_begin (att->att_list); i; i = clist_next (i))
    {
      struct mailimap_msg_att_item *item = clist_content (i);
      const struct mailimap_date_time *d;

      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC
          || item->att_data.att_static->att_type != MAILIMAP_MSG_ATT_INTERNALDATE
          || (d = item->att_data.att_static->att_data.att_internal_date) == NULL)
        continue;
      *out = (MsReceived) { d->dt_day, d->dt_month, d->dt_year, d->dt_hour, d->dt_min, d->dt_sec,
                            d->dt_zone };
      return TRUE;
    }
  return FALSE;
}

static guint32
att_uid (struct mailimap_msg_att *att)
{
  for (clistiter *i = clist_begin (att->att_list); i; i = clist_next (i))
    {
      struct mailimap_msg_att_item *item = clist_content (i);
      if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC
          && item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
        return item->att_data.att_static->att_data.att_uid;
    }
  return 0;
}

/* A chunk of a body: into the current message's spool file, started at
 * its first chunk (the UID may come after the body, so the file gets its
 * owner in on_att). */
static bool
on_body (int type, struct mailimap_msg_att_body_section *section, const char *bytes, size_t len,
         void *data)
{
  Imap *im = data;

  if (im->write_error != NULL)
    return false;
  /* RFC822.SIZE counts line ends as CRLF: count a bare LF as two */
  im->body_bytes += len;
  for (const char *p = bytes, *end = bytes + len; p < end; p++)
    {
      const char *nl = memchr (p, '\n', end - p);
      if (nl == NULL)
        break;
      if (nl == bytes ? !im->body_cr : nl[-1] != '\r')
        im->body_bytes++;
      p = nl;
    }
  if (len > 0)
    im->body_cr = bytes[len - 1] == '\r';
  if (im->writer == NULL)
    im->writer = im->header_only ? ms_spool_writer_new_scan ()
                                 : ms_spool_writer_new (im->fetch->config->maildir, NULL,
                                                        &im->write_error);
  return im->writer != NULL && ms_spool_writer_write (im->writer, bytes, len, &im->write_error);
}

/* One FETCH response is complete: the body written since the last one
 * belongs to its UID. A response without a UID or body (a flag change
 * the server reports on its own) owns nothing. */
static void
on_att (struct mailimap_msg_att *att, void *data)
{
  Imap *im = data;
  g_autoptr (MsSpoolWriter) w = g_steal_pointer (&im->writer);
  guint32 uid = att_uid (att);
  guint64 got = im->body_bytes;
  gpointer size = NULL;
  MsSpool *spool;

  im->body_bytes = 0;
  im->body_cr = FALSE;
  if (w == NULL || im->write_error != NULL || uid == 0)
    return;
  /* A body that is not as long as the server said is not the message:
   * a partial BODY[]<0>, or a copy the server could not read whole.
   * It is left on the server, like one the server refuses. A size of 0
   * is one the server did not give. */
  if (!im->header_only && im->sizes
      && g_hash_table_lookup_extended (im->sizes, GUINT_TO_POINTER (uid), NULL, &size)
      && GPOINTER_TO_UINT (size) != 0 && got != GPOINTER_TO_UINT (size))
    {
      g_warning ("account %s: %s UID %u: the server sent %" G_GUINT64_FORMAT " bytes for it, but "
                 "gave its size (RFC822.SIZE) as %u; a partial or damaged copy is not delivered: "
                 "it stays on the server and is tried again next time", im->fetch->account->name,
                 im->folder, uid, got, GPOINTER_TO_UINT (size));
      ms_fetch_count_failed (im->fetch, 1);
      g_hash_table_add (im->mismatched, GUINT_TO_POINTER (uid));
      return; /* the writer removes its file */
    }
  spool = ms_spool_writer_close (g_steal_pointer (&w), &im->write_error);
  if (spool == NULL)
    return;
  /* kept for deliver_to = imap: (APPEND with the same date) */
  spool->has_received = att_received (att, &spool->received);
  g_hash_table_replace (im->received, GUINT_TO_POINTER (uid), spool);
}

/* libetpan 1.9.4 calls the att handler only when a progress callback
 * is installed; without one it ignores the handler silently. */
static void
on_progress (size_t current, size_t maximum, void *data)
{
}

/* FETCH (@by_uid: UID FETCH) @ft of @set, each FETCH response handed to
 * @on_msg as it arrives. Returns libetpan's code: see refused() for the
 * server's tagged NO (its text in im->s.imap->imap_response; the session
 * goes on); anything else but MAILIMAP_NO_ERROR is a broken session.
 *
 * The result list belongs to us only after MAILIMAP_NO_ERROR (it is
 * empty then: the handler took every response). After a tagged NO,
 * libetpan 1.9.4 has freed it already and leaves the pointer to it in
 * place; freeing it again killed the account process. Without a handler
 * the list would fill up, and libetpan would report a NO that came after
 * some FETCH responses as success: every fetch goes through here. */
static int
run_fetch (Imap *im, gboolean by_uid, struct mailimap_set *set, struct mailimap_fetch_type *ft,
           mailimap_msg_att_handler *on_msg, void *data)
{
  clist *result = NULL;
  int r;

  mailimap_set_progress_callback (im->s.imap, on_progress, NULL, NULL);
  mailimap_set_msg_att_handler (im->s.imap, on_msg, data);
  r = by_uid ? mailimap_uid_fetch (im->s.imap, set, ft, &result)
             : mailimap_fetch (im->s.imap, set, ft, &result);
  mailimap_set_msg_att_handler (im->s.imap, NULL, NULL);
  if (r == MAILIMAP_NO_ERROR && result != NULL)
    mailimap_fetch_list_free (result);
  return r;
}

/* Whether run_fetch's @r is the server's tagged NO. */
static gboolean
refused (int r)
{
  return r == MAILIMAP_ERROR_FETCH || r == MAILIMAP_ERROR_UID_FETCH;
}

static const char *
server_text (Imap *im)
{
  return im->s.imap->imap_response ? im->s.imap->imap_response : "";
}

/* on_att for list_folder: the UID and size of one message. */
static void
on_listed (struct mailimap_msg_att *att, void *data)
{
  GArray *msgs = data;
  MsSourceMsg m = { NULL, 0, 0 };

  for (clistiter *i = clist_begin (att->att_list); i; i = clist_next (i))
    {
      struct mailimap_msg_att_item *item = clist_content (i);
      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
        continue;
      if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
        m.id = item->att_data.att_static->att_data.att_uid;
      else if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
        m.size = item->att_data.att_static->att_data.att_rfc822_size;
    }
  if (m.id)
    g_array_append_val (msgs, m);
}

/* UID and size of every message in the selected folder @folder.
 * *@complete_out is FALSE when the server listed only some of them (a
 * tagged NO): then what is not listed must not be taken for gone. */
static GArray *
imap_list (MsSource *im, const char *folder, gboolean *complete_out, GError **error)
{
  g_autoptr (GArray) msgs = g_array_new (FALSE, FALSE, sizeof (MsSourceMsg));
  guint32 exists = im->s.imap->imap_selection_info->sel_exists;
  struct mailimap_set *set;
  struct mailimap_fetch_type *ft;
  int r;

  *complete_out = TRUE;
  g_array_set_clear_func (msgs, ms_source_msg_clear);
  if (exists == 0)
    return g_steal_pointer (&msgs);
  set = mailimap_set_new_interval (1, 0);
  ft = mailimap_fetch_type_new_fetch_att_list_empty ();
  mailimap_fetch_type_new_fetch_att_list_add (ft, mailimap_fetch_att_new_uid ());
  mailimap_fetch_type_new_fetch_att_list_add (ft, mailimap_fetch_att_new_rfc822_size ());
  expect_lines (im, exists);
  r = run_fetch (im, FALSE, set, ft, on_listed, msgs);
  default_limits (im);
  mailimap_fetch_type_free (ft);
  mailimap_set_free (set);
  if (refused (r))
    {
      guint missing = exists > msgs->len ? exists - msgs->len : 1;
      g_warning ("account %s: %s: the server listed only %u of %u messages (\"%s\"); the others "
                 "stay on the server and are looked for again next time", im->fetch->account->name,
                 folder, msgs->len, exists, server_text (im));
      ms_fetch_count_failed (im->fetch, missing);
      *complete_out = FALSE;
    }
  else if (r != MAILIMAP_NO_ERROR)
    {
      ms_imap_fail (&im->s, r, "FETCH 1:* (UID RFC822.SIZE)", error);
      return NULL;
    }
  for (guint i = 0; i < msgs->len; i++)
    {
      MsSourceMsg *m = &g_array_index (msgs, MsSourceMsg, i);
      m->key = g_strdup_printf ("%u:%u", im->validity, m->id);
    }
  return g_steal_pointer (&msgs);
}

static struct mailimap_set *
uid_set (GArray *uids)
{
  struct mailimap_set *set = mailimap_set_new_empty ();

  for (guint i = 0; i < uids->len; i++)
    mailimap_set_add_single (set, g_array_index (uids, guint32, i));
  return set;
}

/* One UID FETCH of @n messages (whole, or only their header) into
 * im->received. TRUE when the server answered OK, or NO: then
 * *@refused_out is what it said. FALSE with @error: the session broke,
 * or a spool file could not be written. */
static gboolean
fetch_set (Imap *im, const MsSourceMsg *msgs, guint n, gboolean header_only, char **refused_out,
           GError **error)
{
  g_autoptr (GArray) uids = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n);
  struct mailimap_set *set;
  struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty ();
  int r;

  for (guint i = 0; i < n; i++)
    g_array_append_val (uids, msgs[i].id);
  set = uid_set (uids);
  mailimap_fetch_type_new_fetch_att_list_add (ft, mailimap_fetch_att_new_uid ());
  if (!header_only)
    mailimap_fetch_type_new_fetch_att_list_add (ft, mailimap_fetch_att_new_internaldate ());
  mailimap_fetch_type_new_fetch_att_list_add (
    ft, mailimap_fetch_att_new_body_peek_section (header_only ? mailimap_section_new_header ()
                                                              : mailimap_section_new (NULL)));
  /* the handlers see every FETCH response, so they are there only now */
  im->header_only = header_only;
  mailimap_set_msg_body_handler (im->s.imap, on_body, im);
  body_limits (im, msgs, n);
  r = run_fetch (im, TRUE, set, ft, on_att, im);
  default_limits (im);
  mailimap_set_msg_body_handler (im->s.imap, NULL, NULL);
  g_clear_pointer (&im->writer, ms_spool_writer_free); /* a body cut off */
  im->body_bytes = 0;
  im->body_cr = FALSE;
  mailimap_fetch_type_free (ft);
  mailimap_set_free (set);
  if (im->write_error)
    {
      g_propagate_error (error, g_steal_pointer (&im->write_error));
      return FALSE;
    }
  if (refused (r))
    {
      *refused_out = g_strdup (server_text (im));
      return TRUE;
    }
  return r == MAILIMAP_NO_ERROR || ms_imap_fail (&im->s, r, "UID FETCH BODY.PEEK[]", error);
}

/* Fetch @n messages of @folder (whole, or only their header); each one
 * received goes into @items, in the order asked for. A message the
 * server will not return is reported, counted as failed and left out: it
 * stays on the server and is asked for again next time. FALSE with
 * @error when the session failed: @items still holds the messages that
 * arrived whole before that. */
static gboolean
imap_fetch_msgs (MsSource *im, const char *folder, const MsSourceMsg *msgs, guint n,
                 gboolean header_only, GArray *items, GError **error)
{
  g_autoptr (GHashTable) received = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) ms_spool_free);
  g_autoptr (GHashTable) refused = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) sizes = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) mismatched = g_hash_table_new (NULL, NULL);
  g_autofree char *batch_refused = NULL;
  gboolean ok;

  for (guint i = 0; i < n; i++)
    g_hash_table_insert (sizes, GUINT_TO_POINTER (msgs[i].id), GUINT_TO_POINTER (msgs[i].size));
  im->received = received;
  im->sizes = sizes;
  im->mismatched = mismatched;
  im->folder = folder;
  ok = fetch_set (im, msgs, n, header_only, &batch_refused, error);
  /* A NO does not say which message it is about (Gmail: "Some messages
   * could not be FETCHed"), and may come with or without the others'
   * FETCH responses: each message that did not arrive is asked for
   * alone, so that one the server cannot return holds up no other. */
  for (guint i = 0; ok && batch_refused && i < n; i++)
    {
      gpointer uid = GUINT_TO_POINTER (msgs[i].id);
      g_autofree char *alone = NULL;

      if (g_hash_table_contains (received, uid) || g_hash_table_contains (mismatched, uid))
        continue;
      if (n == 1)
        alone = g_strdup (batch_refused);
      else if (!(ok = fetch_set (im, &msgs[i], 1, header_only, &alone, error)))
        break;
      if (alone == NULL)
        continue; /* it came this time (or is gone: see below) */
      g_warning ("account %s: %s UID %u: the server would not return it (\"%s\"); it stays on "
                 "the server and is tried again next time", im->fetch->account->name, folder,
                 msgs[i].id, alone);
      ms_fetch_count_failed (im->fetch, 1);
      g_hash_table_add (refused, uid);
    }
  im->received = NULL;
  im->sizes = im->mismatched = NULL;

  for (guint i = 0; i < n; i++)
    {
      MsSpool *spool = NULL;
      if (g_hash_table_steal_extended (received, GUINT_TO_POINTER (msgs[i].id), NULL, (gpointer *) &spool))
        {
          MsFetchItem item = { g_strdup (msgs[i].key), (gint64) msgs[i].size, spool,
                               MS_FETCH_KEPT_ON_SERVER };
          g_array_append_val (items, item);
        }
      else if (ok && !g_hash_table_contains (refused, GUINT_TO_POINTER (msgs[i].id))
               && !g_hash_table_contains (mismatched, GUINT_TO_POINTER (msgs[i].id)))
        g_info ("account %s: the server sent no body for UID %u (gone, or a server that cannot "
                "render it); it stays on the server", im->fetch->account->name, msgs[i].id);
    }
  return ok;
}

static gboolean
store_flag (Imap *im, GArray *uids, struct mailimap_flag *flag, GError **error)
{
  struct mailimap_set *set = uid_set (uids);
  struct mailimap_flag_list *flags = mailimap_flag_list_new_empty ();
  struct mailimap_store_att_flags *att;
  int r;

  mailimap_flag_list_add (flags, flag);
  att = mailimap_store_att_flags_new_add_flags_silent (flags);
  r = mailimap_uid_store (im->s.imap, set, att);
  mailimap_store_att_flags_free (att);
  mailimap_set_free (set);
  if (r == MAILIMAP_NO_ERROR)
    ms_crash_point ("imap-store");
  return r == MAILIMAP_NO_ERROR || ms_imap_fail (&im->s, r, "UID STORE", error);
}

/* Remove exactly @uids: UID EXPUNGE needs UIDPLUS; without it a plain
 * EXPUNGE could remove messages someone else flagged, so the messages are
 * only flagged \Deleted. */
static gboolean
delete_uids (Imap *im, GArray *uids, GError **error)
{
  struct mailimap_set *set;
  int r;

  if (!store_flag (im, uids, mailimap_flag_new_deleted (), error))
    return FALSE;
  if (!ms_imap_has (&im->s, "UIDPLUS"))
    return TRUE;
  set = uid_set (uids);
  r = mailimap_uid_expunge (im->s.imap, set);
  mailimap_set_free (set);
  if (r == MAILIMAP_NO_ERROR)
    ms_crash_point ("imap-expunge");
  return r == MAILIMAP_NO_ERROR || ms_imap_fail (&im->s, r, "UID EXPUNGE", error);
}

/* Copy @uids into @folder, or move them (UID MOVE, else COPY and
 * delete), creating and subscribing the folder if it does not exist. */
static gboolean
copy_uids (Imap *im, GArray *uids, const char *folder, gboolean move, GError **error)
{
  gboolean use_move = move && ms_imap_has (&im->s, "MOVE");

  for (int attempt = 0; attempt < 2; attempt++)
    {
      struct mailimap_set *set = uid_set (uids);
      int r = use_move ? mailimap_uid_move (im->s.imap, set, folder) : mailimap_uid_copy (im->s.imap, set, folder);
      mailimap_set_free (set);
      if (r == MAILIMAP_NO_ERROR && use_move)
        ms_crash_point ("imap-move");
      if (r == MAILIMAP_NO_ERROR)
        return !move || use_move || delete_uids (im, uids, error);
      /* [TRYCREATE]: the folder does not exist yet */
      if (attempt == 0 && mailimap_create (im->s.imap, folder) == MAILIMAP_NO_ERROR)
        {
          mailimap_subscribe (im->s.imap, folder);
          g_message ("account %s: created the folder %s on the server", im->fetch->account->name, folder);
          continue;
        }
      return ms_imap_fail (&im->s, r, use_move ? "UID MOVE" : "UID COPY", error);
    }
  return FALSE;
}

/* on_att for imap_identify: UID -> Message-ID into @data (a message
 * without one is left out). */
static void
on_identity (struct mailimap_msg_att *att, void *data)
{
  GHashTable *ids = data;
  guint32 uid = 0;
  const char *hdr = NULL;
  size_t hlen = 0;

  for (clistiter *i = clist_begin (att->att_list); i; i = clist_next (i))
    {
      struct mailimap_msg_att_item *item = clist_content (i);
      struct mailimap_msg_att_static *st;
      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
        continue;
      st = item->att_data.att_static;
      if (st->att_type == MAILIMAP_MSG_ATT_UID)
        uid = st->att_data.att_uid;
      else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && st->att_data.att_body_section)
        {
          hdr = st->att_data.att_body_section->sec_body_part;
          hlen = st->att_data.att_body_section->sec_length;
        }
    }
  if (uid != 0 && hdr != NULL)
    {
      g_autoptr (MsHeaderView) view = ms_header_view_new (hdr, hlen);
      const char *msgid = ms_header_view_get_first (view, "Message-ID");
      if (msgid)
        g_hash_table_replace (ids, GUINT_TO_POINTER (uid), g_strdup (msgid));
    }
}

/* The Message-ID of each of @msgs (after a UIDVALIDITY change). A NO
 * does not say which message it is about: each one missing is asked for
 * alone, so that one the server will not return costs only itself (it
 * is fetched again as new). */
static GHashTable *
imap_identify (MsSource *im, const char *folder, GArray *msgs, GError **error)
{
  g_autoptr (GHashTable) ids = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GHashTable) asked = g_hash_table_new (NULL, NULL);
  struct mailimap_set *set;
  struct mailimap_fetch_type *ft;
  clist *fields = clist_new ();
  int r;

  clist_append (fields, strdup ("MESSAGE-ID"));
  ft = mailimap_fetch_type_new_fetch_att_list_empty ();
  mailimap_fetch_type_new_fetch_att_list_add (ft, mailimap_fetch_att_new_uid ());
  mailimap_fetch_type_new_fetch_att_list_add (
    ft, mailimap_fetch_att_new_body_peek_section (
          mailimap_section_new_header_fields (mailimap_header_list_new (fields))));
  set = mailimap_set_new_interval (1, 0);
  expect_lines (im, msgs->len);
  r = run_fetch (im, FALSE, set, ft, on_identity, ids);
  default_limits (im);
  mailimap_set_free (set);
  for (guint i = 0; refused (r) && i < msgs->len; i++)
    {
      guint32 one = g_array_index (msgs, MsSourceMsg, i).id;
      int r1;

      if (g_hash_table_contains (ids, GUINT_TO_POINTER (one)))
        continue;
      set = mailimap_set_new_single (one);
      r1 = run_fetch (im, TRUE, set, ft, on_identity, ids);
      mailimap_set_free (set);
      if (r1 != MAILIMAP_NO_ERROR && !refused (r1))
        r = r1;
    }
  mailimap_fetch_type_free (ft);
  if (r != MAILIMAP_NO_ERROR && !refused (r))
    {
      ms_imap_fail (&im->s, r, "FETCH (Message-ID) after a UIDVALIDITY change", error);
      return NULL;
    }
  return g_steal_pointer (&ids);
}

static MsSource *
imap_open (MsFetch *f, GError **error)
{
  Imap *im = g_new0 (Imap, 1);

  im->fetch = f;
  if (!ms_imap_session_open (&im->s, f->account, error))
    {
      ms_imap_session_close (&im->s, FALSE);
      g_clear_error (&im->write_error);
      g_free (im);
      return NULL;
    }
  ms_net_set_deadline (im->s.imap->imap_stream, ms_fetch_net_deadline (f));
  return im;
}

static gboolean
imap_end (MsSource *im, gboolean ok, GError **error)
{
  ms_imap_session_close (&im->s, ok);
  g_clear_error (&im->write_error);
  g_free (im);
  return TRUE;
}

static gboolean
imap_select (MsSource *im, const char *folder, MsFolderInfo *info, GError **error)
{
  int r = mailimap_select (im->s.imap, folder);

  if (r != MAILIMAP_NO_ERROR)
    return ms_imap_fail (&im->s, r, folder, error);
  im->validity = im->s.imap->imap_selection_info->sel_uidvalidity;
  info->validity = im->validity;
  info->next = im->s.imap->imap_selection_info->sel_uidnext;
  info->can_move = ms_imap_has (&im->s, "MOVE");
  info->exact_move = info->can_move || ms_imap_has (&im->s, "UIDPLUS");
  return TRUE;
}

static gboolean
imap_mark_seen (MsSource *im, GArray *uids, GError **error)
{
  return store_flag (im, uids, mailimap_flag_new_seen (), error);
}

static char *
imap_describe (const char *folder, const MsSourceMsg *m)
{
  return g_strdup_printf ("%s UID %u", folder, m->id);
}

const MsSourceOps ms_source_imap = {
  .name = "imap",
  .key_name = "UID",
  .has_folders = TRUE,
  .open = imap_open,
  .close = imap_end,
  .select = imap_select,
  .list = imap_list,
  .fetch = imap_fetch_msgs,
  .remove = delete_uids,
  .mark_seen = imap_mark_seen,
  .copy = copy_uids,
  .identify = imap_identify,
  .describe = imap_describe,
  .wait = ms_imap_wait,
};
