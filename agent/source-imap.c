/* mailsift - IMAP source.
 *
 * Per folder: SELECT, list UID and size, then the UIDs not yet delivered
 * (state key "UIDVALIDITY:UID") in batches: one UID FETCH of BODY.PEEK[]
 * per batch, each body streamed through libetpan's body handler into a
 * spool file of its own (memory stays flat whatever the size; the att
 * handler closes the file once it learns the UID), then the batch is
 * delivered (ms_fetch_deliver_batch) and only then is the server told, in
 * one command per kind: \Seen, \Deleted + UID EXPUNGE (only of our own
 * UIDs, and only with UIDPLUS), or UID MOVE. A message the server will
 * not return (a tagged NO) holds up no other: it is reported, counted as
 * failed and left on the server for the next run. */
#include "source.h"

#include "crash.h"
#include "error.h"
#include "header.h"
#include "net.h"
#include "utf7.h"

#include <libetpan/libetpan.h>
#include <string.h>

typedef struct {
  guint32 uid;
  guint32 size;
} ImapMsg;

typedef struct {
  MsFetch *fetch;
  mailimap *imap;
  MsNetOptions net;
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
} Imap;

static gboolean
imap_fail (Imap *im, int r, const char *what, GError **error)
{
  const char *reply = im->imap && im->imap->imap_response ? im->imap->imap_response : "";
  const GError *cause = im->imap ? ms_net_stream_error (im->imap->imap_stream) : NULL;

  /* a dropped connection (a bound hit, a timeout) says why itself */
  if (cause)
    g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s failed: %s",
                 im->fetch->account->name, what, cause->message);
  else
    g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s failed (libetpan error %d)%s%s",
                 im->fetch->account->name, what, r, *reply ? ": " : "", reply);
  return FALSE;
}

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
  ms_net_set_limits (im->imap->imap_stream, &l);
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
body_limits (Imap *im, const ImapMsg *msgs, guint n)
{
  const MsAccount *a = im->fetch->account;
  guint64 limit = g_strcmp0 (a->oversize, "fetch") != 0 ? (guint64) a->max_message_size * 1024 : 0;
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
  ms_net_set_limits (im->imap->imap_stream, &l);
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
      im->fetch->stats.failed++;
      g_hash_table_add (im->mismatched, GUINT_TO_POINTER (uid));
      return; /* the writer removes its file */
    }
  spool = ms_spool_writer_close (g_steal_pointer (&w), &im->write_error);
  if (spool)
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
 * server's tagged NO (its text in im->imap->imap_response; the session
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

  mailimap_set_progress_callback (im->imap, on_progress, NULL, NULL);
  mailimap_set_msg_att_handler (im->imap, on_msg, data);
  r = by_uid ? mailimap_uid_fetch (im->imap, set, ft, &result)
             : mailimap_fetch (im->imap, set, ft, &result);
  mailimap_set_msg_att_handler (im->imap, NULL, NULL);
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
  return im->imap->imap_response ? im->imap->imap_response : "";
}

/* Whether the server's greeting is "* BYE ..." (it will not serve us).
 * libetpan 1.9.4's mailimap_connect() leaks the parsed greeting then (48
 * bytes a connection, for as long as `mailsift run` keeps trying), so
 * it is not called for one: the first bytes are looked at in libetpan's
 * buffer, where mailimap_connect() will read them. A greeting that
 * arrives in pieces of fewer than 6 bytes still goes the old way. */
static gboolean
greeting_is_bye (mailstream *stream)
{
  if (stream->read_buffer_len == 0 && mailstream_feed_read_buffer (stream) <= 0)
    return FALSE; /* mailimap_connect reports it */
  return stream->read_buffer_len >= 6 && g_ascii_strncasecmp (stream->read_buffer, "* BYE ", 6) == 0;
}

/* CAPABILITY: what the server offers, kept in imap_connection_info.
 * libetpan 1.9.4's mailimap_capability() copies that after a tagged OK
 * without looking: a server that answers OK without an untagged
 * CAPABILITY response (where there was none before) made it dereference
 * NULL and killed the account process. With an empty list in place
 * first, such an answer means what it says: no extensions. An untagged
 * CAPABILITY replaces the list (libetpan frees the old one). */
static void
ask_capability (Imap *im)
{
  struct mailimap_connection_info *info = im->imap->imap_connection_info;
  struct mailimap_capability_data *caps = NULL;

  if (info == NULL)
    return; /* (libetpan makes it at the greeting) */
  if (info->imap_capability == NULL)
    {
      clist *none = clist_new ();

      if (none == NULL || (info->imap_capability = mailimap_capability_data_new (none)) == NULL)
        g_error ("out of memory");
    }
  if (mailimap_capability (im->imap, &caps) == MAILIMAP_NO_ERROR)
    mailimap_capability_data_free (caps);
}

static gboolean
connect_and_login (Imap *im, GError **error)
{
  const MsAccount *a = im->fetch->account;
  g_autofree char *secret = NULL;
  gboolean oauth2 = a->password_command == NULL;
  mailstream *stream;
  int r;

  ms_net_options_init (&im->net, a->host, ms_account_port (a), a->tls, a->ca_file,
                       a->pin_sha256, a->timeout);
  if ((im->net.tls != MS_TLS_NONE && !ms_net_tls_available (error))
      || (stream = ms_net_connect (&im->net, error)) == NULL)
    {
      g_prefix_error (error, "account %s: ", a->name);
      return FALSE;
    }
  im->imap = mailimap_new (0, NULL);
  {
    MsNetLimits l;
    ms_net_limits_init (&l, TRUE);
    ms_net_set_limits (stream, &l);
  }
  if (greeting_is_bye (stream))
    {
      /* (imap_fail would find no response text: the greeting is unread) */
      mailstream_close (stream);
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: the server refused the "
                   "connection (its greeting was BYE)", a->name);
      return FALSE;
    }
  r = mailimap_connect (im->imap, stream);
  if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
    return imap_fail (im, r, "the greeting", error);
  if (im->net.tls == MS_TLS_STARTTLS)
    {
      r = mailimap_starttls (im->imap);
      if (r == MAILIMAP_ERROR_STARTTLS && ms_net_starttls_injected (im->imap->imap_stream, error))
        {
          g_prefix_error (error, "account %s: ", a->name);
          return FALSE;
        }
      if (r != MAILIMAP_NO_ERROR)
        return imap_fail (im, r, "STARTTLS (does the server offer it? tls = implicit?)", error);
      if (!ms_net_starttls (im->imap->imap_stream, &im->net, error))
        {
          g_prefix_error (error, "account %s: ", a->name);
          return FALSE;
        }
      /* what the server said before TLS cannot be trusted */
      mailimap_capability_data_free (im->imap->imap_connection_info->imap_capability);
      im->imap->imap_connection_info->imap_capability = NULL;
      ask_capability (im);
    }
  secret = ms_account_secret (a, oauth2, error);
  if (secret == NULL)
    return FALSE;
  r = oauth2 ? mailimap_oauth2_authenticate (im->imap, a->user, secret)
             : mailimap_login (im->imap, a->user, secret);
  if (r != MAILIMAP_NO_ERROR)
    {
      const char *reply = im->imap->imap_response ? im->imap->imap_response : "";
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "account %s: login as %s refused%s%s; "
                   "check user and %s", a->name, a->user, *reply ? ": " : "", reply,
                   oauth2 ? "oauth2_token_command" : "password_command");
      return FALSE;
    }
  if (im->imap->imap_connection_info == NULL || im->imap->imap_connection_info->imap_capability == NULL)
    ask_capability (im);
  return TRUE;
}

/* on_att for list_folder: the UID and size of one message. */
static void
on_listed (struct mailimap_msg_att *att, void *data)
{
  GArray *msgs = data;
  ImapMsg m = { 0, 0 };

  for (clistiter *i = clist_begin (att->att_list); i; i = clist_next (i))
    {
      struct mailimap_msg_att_item *item = clist_content (i);
      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
        continue;
      if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
        m.uid = item->att_data.att_static->att_data.att_uid;
      else if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
        m.size = item->att_data.att_static->att_data.att_rfc822_size;
    }
  if (m.uid)
    g_array_append_val (msgs, m);
}

/* UID and size of every message in the selected folder @folder.
 * *@complete_out is FALSE when the server listed only some of them (a
 * tagged NO): then what is not listed must not be taken for gone. */
static GArray *
list_folder (Imap *im, const char *folder, gboolean *complete_out, GError **error)
{
  g_autoptr (GArray) msgs = g_array_new (FALSE, FALSE, sizeof (ImapMsg));
  guint32 exists = im->imap->imap_selection_info->sel_exists;
  struct mailimap_set *set;
  struct mailimap_fetch_type *ft;
  int r;

  *complete_out = TRUE;
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
      im->fetch->stats.failed += missing;
      *complete_out = FALSE;
    }
  else if (r != MAILIMAP_NO_ERROR)
    {
      imap_fail (im, r, "FETCH 1:* (UID RFC822.SIZE)", error);
      return NULL;
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
fetch_set (Imap *im, const ImapMsg *msgs, guint n, gboolean header_only, char **refused_out,
           GError **error)
{
  g_autoptr (GArray) uids = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n);
  struct mailimap_set *set;
  struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty ();
  int r;

  for (guint i = 0; i < n; i++)
    g_array_append_val (uids, msgs[i].uid);
  set = uid_set (uids);
  mailimap_fetch_type_new_fetch_att_list_add (ft, mailimap_fetch_att_new_uid ());
  mailimap_fetch_type_new_fetch_att_list_add (
    ft, mailimap_fetch_att_new_body_peek_section (header_only ? mailimap_section_new_header ()
                                                              : mailimap_section_new (NULL)));
  /* the handlers see every FETCH response, so they are there only now */
  im->header_only = header_only;
  mailimap_set_msg_body_handler (im->imap, on_body, im);
  body_limits (im, msgs, n);
  r = run_fetch (im, TRUE, set, ft, on_att, im);
  default_limits (im);
  mailimap_set_msg_body_handler (im->imap, NULL, NULL);
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
  return r == MAILIMAP_NO_ERROR || imap_fail (im, r, "UID FETCH BODY.PEEK[]", error);
}

/* Fetch @n messages of @folder (whole, or only their header); each one
 * received goes into @items, in the order asked for. A message the
 * server will not return is reported, counted as failed and left out: it
 * stays on the server and is asked for again next time. FALSE with
 * @error when the session failed: @items still holds the messages that
 * arrived whole before that. */
static gboolean
fetch_batch (Imap *im, const char *folder, guint32 validity, const ImapMsg *msgs, guint n,
             gboolean header_only, GArray *items, GError **error)
{
  g_autoptr (GHashTable) received = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) ms_spool_free);
  g_autoptr (GHashTable) refused = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) sizes = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) mismatched = g_hash_table_new (NULL, NULL);
  g_autofree char *batch_refused = NULL;
  gboolean ok;

  for (guint i = 0; i < n; i++)
    g_hash_table_insert (sizes, GUINT_TO_POINTER (msgs[i].uid), GUINT_TO_POINTER (msgs[i].size));
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
      gpointer uid = GUINT_TO_POINTER (msgs[i].uid);
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
                 msgs[i].uid, alone);
      im->fetch->stats.failed++;
      g_hash_table_add (refused, uid);
    }
  im->received = NULL;
  im->sizes = im->mismatched = NULL;

  for (guint i = 0; i < n; i++)
    {
      MsSpool *spool = NULL;
      if (g_hash_table_steal_extended (received, GUINT_TO_POINTER (msgs[i].uid), NULL, (gpointer *) &spool))
        {
          MsFetchItem item = { g_strdup_printf ("%u:%u", validity, msgs[i].uid), msgs[i].size, spool,
                               MS_FETCH_KEPT_ON_SERVER };
          g_array_append_val (items, item);
        }
      else if (ok && !g_hash_table_contains (refused, GUINT_TO_POINTER (msgs[i].uid))
               && !g_hash_table_contains (mismatched, GUINT_TO_POINTER (msgs[i].uid)))
        g_info ("account %s: the server sent no body for UID %u (gone, or a server that cannot "
                "render it); it stays on the server", im->fetch->account->name, msgs[i].uid);
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
  r = mailimap_uid_store (im->imap, set, att);
  mailimap_store_att_flags_free (att);
  mailimap_set_free (set);
  if (r == MAILIMAP_NO_ERROR)
    ms_crash_point ("imap-store");
  return r == MAILIMAP_NO_ERROR || imap_fail (im, r, "UID STORE", error);
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
  if (!mailimap_has_extension (im->imap, "UIDPLUS"))
    return TRUE;
  set = uid_set (uids);
  r = mailimap_uid_expunge (im->imap, set);
  mailimap_set_free (set);
  if (r == MAILIMAP_NO_ERROR)
    ms_crash_point ("imap-expunge");
  return r == MAILIMAP_NO_ERROR || imap_fail (im, r, "UID EXPUNGE", error);
}

/* Copy @uids into @folder, or move them (UID MOVE, else COPY and
 * delete), creating and subscribing the folder if it does not exist. */
static gboolean
copy_uids (Imap *im, GArray *uids, const char *folder, gboolean move, GError **error)
{
  gboolean use_move = move && mailimap_has_extension (im->imap, "MOVE");

  for (int attempt = 0; attempt < 2; attempt++)
    {
      struct mailimap_set *set = uid_set (uids);
      int r = use_move ? mailimap_uid_move (im->imap, set, folder) : mailimap_uid_copy (im->imap, set, folder);
      mailimap_set_free (set);
      if (r == MAILIMAP_NO_ERROR && use_move)
        ms_crash_point ("imap-move");
      if (r == MAILIMAP_NO_ERROR)
        return !move || use_move || delete_uids (im, uids, error);
      /* [TRYCREATE]: the folder does not exist yet */
      if (attempt == 0 && mailimap_create (im->imap, folder) == MAILIMAP_NO_ERROR)
        {
          mailimap_subscribe (im->imap, folder);
          g_message ("account %s: created the folder %s on the server", im->fetch->account->name, folder);
          continue;
        }
      return imap_fail (im, r, use_move ? "UID MOVE" : "UID COPY", error);
    }
  return FALSE;
}

/* Tell the server, after the messages are delivered and recorded:
 * @expired (keep_days passed) are deleted, @delivered get after_delivery. */
static gboolean
tell_server (Imap *im, GArray *expired, GArray *delivered, GError **error)
{
  const char *how = im->fetch->account->after_delivery;

  if (g_strcmp0 (how, "delete") == 0 && delivered->len)
    {
      g_array_append_vals (expired, delivered->data, delivered->len);
      g_array_set_size (delivered, 0);
    }
  if (expired->len && !delete_uids (im, expired, error))
    return FALSE;
  if (delivered->len == 0)
    return TRUE;
  if (g_strcmp0 (how, "seen") == 0)
    return store_flag (im, delivered, mailimap_flag_new_seen (), error);
  if (g_str_has_prefix (how, "move:"))
    return copy_uids (im, delivered, how + 5, TRUE, error);
  return TRUE;
}

typedef struct {
  guint32 size;
  char *msgid; /* NULL: the message has none */
} ImapIdentity;

static void
imap_identity_free (gpointer p)
{
  ImapIdentity *id = p;

  g_free (id->msgid);
  g_free (id);
}

/* on_att for recover_uidvalidity: UID -> ImapIdentity into @data. */
static void
on_identity (struct mailimap_msg_att *att, void *data)
{
  GHashTable *ids = data;
  guint32 uid = 0, size = 0;
  const char *hdr = NULL;
  size_t hlen = 0;
  ImapIdentity *id;

  for (clistiter *i = clist_begin (att->att_list); i; i = clist_next (i))
    {
      struct mailimap_msg_att_item *item = clist_content (i);
      struct mailimap_msg_att_static *st;
      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
        continue;
      st = item->att_data.att_static;
      if (st->att_type == MAILIMAP_MSG_ATT_UID)
        uid = st->att_data.att_uid;
      else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
        size = st->att_data.att_rfc822_size;
      else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && st->att_data.att_body_section)
        {
          hdr = st->att_data.att_body_section->sec_body_part;
          hlen = st->att_data.att_body_section->sec_length;
        }
    }
  if (uid == 0)
    return;
  id = g_new0 (ImapIdentity, 1);
  id->size = size;
  if (hdr)
    {
      g_autoptr (MsHeaderView) view = ms_header_view_new (hdr, hlen);
      id->msgid = g_strdup (ms_header_view_get_first (view, "Message-ID"));
    }
  g_hash_table_replace (ids, GUINT_TO_POINTER (uid), id);
}

/* The folder's UIDVALIDITY changed, so every UID is new to us. Rather
 * than fetch everything again, match the server's messages (@msgs) to
 * what was delivered by Message-ID and size, and record the matches under
 * their new UIDs. Messages without a Message-ID, or whose header the
 * server will not return, are fetched again (a duplicate is better than
 * a loss). */
static gboolean
recover_uidvalidity (Imap *im, const char *folder, guint32 validity, GArray *msgs,
                     GHashTable *seen, GError **error)
{
  MsFetch *f = im->fetch;
  g_autoptr (GHashTable) known = ms_state_seen_identities (f->state, f->account->name, folder, error);
  g_autoptr (GHashTable) ids = g_hash_table_new_full (NULL, NULL, NULL, imap_identity_free);
  struct mailimap_set *set;
  struct mailimap_fetch_type *ft;
  clist *fields;
  guint matched = 0;
  GHashTableIter iter;
  gpointer uid, value;
  int r;

  if (known == NULL)
    return FALSE;
  fields = clist_new ();
  clist_append (fields, strdup ("MESSAGE-ID"));
  ft = mailimap_fetch_type_new_fetch_att_list_empty ();
  mailimap_fetch_type_new_fetch_att_list_add (ft, mailimap_fetch_att_new_uid ());
  mailimap_fetch_type_new_fetch_att_list_add (ft, mailimap_fetch_att_new_rfc822_size ());
  mailimap_fetch_type_new_fetch_att_list_add (
    ft, mailimap_fetch_att_new_body_peek_section (
          mailimap_section_new_header_fields (mailimap_header_list_new (fields))));
  set = mailimap_set_new_interval (1, 0);
  expect_lines (im, msgs->len);
  r = run_fetch (im, FALSE, set, ft, on_identity, ids);
  default_limits (im);
  mailimap_set_free (set);
  /* a NO does not say which message it is about: each one missing is
   * asked for alone, so that one the server will not return costs only
   * itself */
  for (guint i = 0; refused (r) && i < msgs->len; i++)
    {
      guint32 one = g_array_index (msgs, ImapMsg, i).uid;
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
    return imap_fail (im, r, "FETCH (Message-ID) after a UIDVALIDITY change", error);

  /* all matches or none: a half-recorded recovery would look finished */
  if (!ms_state_begin (f->state, error))
    return FALSE;
  g_hash_table_iter_init (&iter, ids);
  while (g_hash_table_iter_next (&iter, &uid, &value))
    {
      ImapIdentity *id = value;
      g_autofree char *identity = id->msgid ? g_strdup_printf ("%s %u", id->msgid, id->size) : NULL;
      gint64 *when = identity ? g_hash_table_lookup (known, identity) : NULL;
      g_autofree char *key = NULL;
      gint64 *copy;

      if (when == NULL)
        continue;
      key = g_strdup_printf ("%u:%u", validity, GPOINTER_TO_UINT (uid));
      if (!ms_state_seen_record (f->state, f->account->name, folder, key, *when, id->msgid,
                                 id->size, error))
        {
          ms_state_rollback (f->state);
          return FALSE;
        }
      copy = g_new (gint64, 1);
      *copy = *when;
      g_hash_table_replace (seen, g_steal_pointer (&key), copy);
      matched++;
    }
  if (!ms_state_commit (f->state, error))
    {
      ms_state_rollback (f->state);
      return FALSE;
    }
  g_warning ("account %s: the UIDVALIDITY of %s changed (the server renumbered it); %u of %u "
             "messages matched what was delivered before by Message-ID and size, the other %u "
             "are fetched as new", f->account->name, folder, matched, msgs->len,
             msgs->len - MIN (matched, msgs->len));
  return TRUE;
}

/* Whether @seen holds keys of another UIDVALIDITY and none of @validity. */
static gboolean
uidvalidity_changed (GHashTable *seen, guint32 validity)
{
  g_autofree char *prefix = g_strdup_printf ("%u:", validity);
  GHashTableIter iter;
  gpointer key;
  gboolean other = FALSE;

  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (g_str_has_prefix (key, prefix))
        return FALSE;
      other = TRUE;
    }
  return other;
}

static void
add_uid (GHashTable *by_folder, const char *folder, guint32 uid)
{
  GArray *uids = g_hash_table_lookup (by_folder, folder);

  if (uids == NULL)
    {
      uids = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_hash_table_insert (by_folder, g_strdup (folder), uids);
    }
  g_array_append_val (uids, uid);
}

/* The name of a UID COPY into @target in the state's record of copies. */
static char *
copy_target (const char *target)
{
  return g_strdup_printf ("copy:%s", target);
}

/* Whether @uid (the state key) was copied into @target by an earlier run
 * that did not get as far as recording the message as seen. */
static gboolean
copied_before (Imap *im, const char *folder, const char *uid, const char *target,
               gboolean *done_out, GError **error)
{
  g_autofree char *name = copy_target (target);

  return ms_state_copy_done (im->fetch->state, im->fetch->account->name, folder, uid, name,
                             done_out, error);
}

/* UID COPY @uids into @target, then record that at once, in a commit of
 * its own: when a later step fails (another COPY, local delivery), the
 * next run does not copy them again. A crash between the server's OK
 * and the commit costs one duplicate of each. */
static gboolean
copy_and_record (Imap *im, const char *folder, guint32 validity, GArray *uids, const char *target,
                 GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *name = copy_target (target);

  if (!copy_uids (im, uids, target, FALSE, error))
    return FALSE;
  ms_crash_point ("sift-copy");
  for (guint i = 0; i < uids->len; i++)
    g_ptr_array_add (keys, g_strdup_printf ("%u:%u", validity, g_array_index (uids, guint32, i)));
  g_ptr_array_add (keys, NULL);
  return ms_state_copies_record (im->fetch->state, im->fetch->account->name, folder,
                                 (const char *const *) keys->pdata, name, error);
}

/* fileinto_target = server: filter @batch by header, carry out fileinto
 * on the server (COPY, or MOVE when that is all the script does), and
 * put into @need_body the messages that must also be delivered here
 * (keep, redirect, replies). Server first, then local: each COPY is
 * recorded as soon as the server made it, so a failure later costs no
 * second copy; a crash in between files a message twice at worst,
 * never loses it. A script that reads bodies gets whole messages
 * instead of headers; those to be delivered here then go to @whole
 * (MsFetchItem) and need no second fetch. */
static gboolean
file_on_server (Imap *im, const char *folder, guint32 validity, const ImapMsg *batch, guint n,
                GArray *need_body, GArray *whole, GError **error)
{
  MsFetch *f = im->fetch;
  gboolean has_move = mailimap_has_extension (im->imap, "MOVE");
  g_autoptr (GArray) heads = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
  g_autoptr (GPtrArray) plans = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_plan_free);
  g_autoptr (GHashTable) copies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) g_array_unref);
  g_autoptr (GHashTable) moves = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) g_array_unref);
  g_autoptr (GArray) filed = g_array_new (FALSE, FALSE, sizeof (guint32));    /* copied, then removed */
  g_autoptr (GArray) discarded = g_array_new (FALSE, FALSE, sizeof (guint32)); /* after_delivery */
  g_autoptr (GArray) none = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GPtrArray) record = g_ptr_array_new (); /* MsFetchItem *: seen, not gone from the folder */
  g_autoptr (GPtrArray) done = g_ptr_array_new ();   /* MsPlan *: handled here, nothing local */
  GHashTableIter iter;
  gpointer key, value;

  g_array_set_clear_func (heads, ms_fetch_item_clear);
  if (!fetch_batch (im, folder, validity, batch, n, !f->needs_body, heads, error))
    return FALSE;
  for (guint i = 0; i < heads->len; i++)
    {
      MsFetchItem *item = &g_array_index (heads, MsFetchItem, i);
      MsPlan *plan = ms_fetch_plan (f, item->spool);
      guint32 uid = (guint32) g_ascii_strtoull (strchr (item->uid, ':') + 1, NULL, 10);
      g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
      gboolean local = FALSE, filed_before = FALSE;

      g_ptr_array_add (plans, plan);
      for (guint k = 0; k < plan->result->errors->len; k++)
        g_warning ("account %s: message %s: %s", f->account->name, plan->message_id,
                   (char *) plan->result->errors->pdata[k]);
      for (guint k = 0; k < plan->result->actions->len; k++)
        {
          MsAction *a = plan->result->actions->pdata[k];
          /* IMAP names folders in modified UTF-7 (apply_policy let only
           * names through that encode) */
          if (ms_action_info (a->kind)->named_folder)
            {
              g_ptr_array_add (targets, ms_utf7_imap_encode (a->target));
              if (a->edits > 0)
                g_message ("account %s: message %s: fileinto \"%s\" on the server: the server copies the "
                           "message as it is, without the script's header changes", f->account->name,
                           plan->message_id, a->target);
            }
          else if (ms_action_info (a->kind)->files || ms_action_info (a->kind)->sends)
            local = TRUE;
        }
      for (guint k = 0; k < targets->len; k++)
        {
          g_info ("account %s: message %s: fileinto \"%s\" on the server", f->account->name,
                  plan->message_id, (char *) targets->pdata[k]);
          char *where = g_strdup_printf ("%s (on the server)", (char *) targets->pdata[k]);
          guint count = GPOINTER_TO_UINT (g_hash_table_lookup (f->stats.folders, where));
          g_hash_table_replace (f->stats.folders, where, GUINT_TO_POINTER (count + 1));
        }
      /* what an earlier run copied already is not copied again */
      for (guint k = targets->len; k-- > 0;)
        {
          gboolean copied = FALSE;
          if (!copied_before (im, folder, item->uid, targets->pdata[k], &copied, error))
            return FALSE;
          if (copied)
            {
              g_info ("account %s: message %s is in \"%s\" on the server already (copied by an "
                      "earlier run)", f->account->name, plan->message_id, (char *) targets->pdata[k]);
              g_ptr_array_remove_index (targets, k);
              filed_before = TRUE;
            }
        }
      if (local && f->needs_body)
        {
          /* already here whole: hand it on (heads keeps an empty item) */
          for (guint k = 0; k < targets->len; k++)
            add_uid (copies, targets->pdata[k], uid);
          g_array_append_val (whole, *item);
          memset (item, 0, sizeof *item);
          continue;
        }
      if (local)
        {
          ImapMsg m = { uid, (guint32) item->server_size };
          g_array_append_val (need_body, m);
          for (guint k = 0; k < targets->len; k++)
            add_uid (copies, targets->pdata[k], uid);
          continue;
        }
      g_ptr_array_add (done, plan);
      if (targets->len == 1 && has_move)
        add_uid (moves, targets->pdata[0], uid);
      else
        {
          for (guint k = 0; k < targets->len; k++)
            add_uid (copies, targets->pdata[k], uid);
          g_array_append_val (targets->len || filed_before ? filed : discarded, uid);
          g_ptr_array_add (record, item);
        }
      f->stats.messages++;
    }

  g_hash_table_iter_init (&iter, copies);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!copy_and_record (im, folder, validity, value, key, error))
      return FALSE;
  g_hash_table_iter_init (&iter, moves);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!copy_uids (im, value, key, TRUE, error))
      return FALSE;
  if (filed->len && !delete_uids (im, filed, error))
    return FALSE;
  /* what is still in the folder (flagged \Deleted without UIDPLUS, or
   * discarded) must not be filtered again; the duplicate IDs of what was
   * handled here are recorded now (the others' with their delivery) */
  if (record->len || done->len)
    {
      gint64 now = g_get_real_time () / G_USEC_PER_SEC;
      if (!ms_state_begin (f->state, error))
        return FALSE;
      for (guint i = 0; i < done->len; i++)
        if (!ms_pipeline_record_duplicates (f->pipeline, done->pdata[i], error))
          {
            ms_state_rollback (f->state);
            return FALSE;
          }
      for (guint i = 0; i < record->len; i++)
        {
          MsFetchItem *item = record->pdata[i];
          g_autoptr (MsHeaderView) view = NULL;
          gsize hlen;
          const char *h = g_bytes_get_data (item->spool->header, &hlen);
          view = ms_header_view_new (h, hlen);
          if (!ms_state_seen_record (f->state, f->account->name, folder, item->uid, now,
                                     ms_header_view_get_first (view, "Message-ID"), item->server_size, error))
            {
              ms_state_rollback (f->state);
              return FALSE;
            }
        }
      if (!ms_state_commit (f->state, error))
        {
          ms_state_rollback (f->state);
          return FALSE;
        }
      ms_crash_point ("state-commit");
    }
  return tell_server (im, none, discarded, error);
}

/* Fetch, deliver and commit @todo in batches. */
static gboolean
fetch_new (Imap *im, const char *folder, guint32 validity, GHashTable *journal, GArray *todo,
           GError **error)
{
  MsFetch *f = im->fetch;

  for (guint start = 0, n; start < todo->len && !ms_fetch_deadline_passed (f); start += n)
    {
      const ImapMsg *batch = &g_array_index (todo, ImapMsg, start);
      g_autoptr (GArray) items = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
      g_autoptr (GArray) expired = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr (GArray) delivered = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr (GError) fetch_error = NULL;
      g_autoptr (GError) deliver_error = NULL;
      g_autoptr (GArray) bodies = g_array_new (FALSE, FALSE, sizeof (ImapMsg));
      guint64 bytes = batch[0].size;
      guint n_fetch;
      gboolean fetched;

      for (n = 1; start + n < todo->len && n < MS_FETCH_BATCH_MAX
                  && bytes + batch[n].size <= MS_FETCH_BATCH_BYTES; n++)
        bytes += batch[n].size;
      n_fetch = n;
      g_array_set_clear_func (items, ms_fetch_item_clear);
      if (f->fileinto_on_server)
        {
          if (!file_on_server (im, folder, validity, batch, n, bodies, items, error))
            return FALSE;
          batch = (const ImapMsg *) bodies->data;
          n_fetch = bodies->len;
        }
      g_array_set_clear_func (items, ms_fetch_item_clear);
      /* a dry run needs only the header, unless the script reads bodies */
      fetched = n_fetch == 0
                || fetch_batch (im, folder, validity, batch, n_fetch, f->dry_run && !f->needs_body, items,
                                &fetch_error);
      if (f->dry_run)
        {
          for (guint i = 0; i < items->len; i++)
            {
              MsFetchItem *item = &g_array_index (items, MsFetchItem, i);
              g_autofree char *where = g_strdup_printf ("%s UID %s", folder, strchr (item->uid, ':') + 1);
              ms_fetch_dry (f, item->spool, where);
            }
        }
      /* what arrived whole before a failure is delivered all the same */
      else if (!ms_fetch_deliver_batch (f, folder, journal, items, &deliver_error) && fetched)
        {
          g_propagate_error (error, g_steal_pointer (&deliver_error));
          return FALSE;
        }
      if (!fetched)
        {
          if (deliver_error)
            g_warning ("%s", deliver_error->message);
          g_propagate_error (error, g_steal_pointer (&fetch_error));
          return FALSE;
        }
      for (guint i = 0; i < items->len; i++)
        {
          MsFetchItem *item = &g_array_index (items, MsFetchItem, i);
          guint32 uid = (guint32) g_ascii_strtoull (strchr (item->uid, ':') + 1, NULL, 10);
          if (item->outcome == MS_FETCH_DELIVERED)
            g_array_append_val (delivered, uid);
        }
      if (!f->dry_run && !tell_server (im, expired, delivered, error))
        return FALSE;
      if (f->progress)
        f->progress (f, f->progress_data);
    }
  return TRUE;
}

static gboolean
fetch_folder (Imap *im, const char *folder, GError **error)
{
  MsFetch *f = im->fetch;
  const MsAccount *a = f->account;
  g_autoptr (GHashTable) seen = ms_state_seen_all (f->state, a->name, folder, error);
  g_autoptr (GHashTable) journal = seen ? ms_state_journal_all (f->state, a->name, folder, error) : NULL;
  g_autoptr (GArray) msgs = NULL;
  g_autoptr (GArray) todo = g_array_new (FALSE, FALSE, sizeof (ImapMsg));
  g_autoptr (GArray) expired = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GArray) redo = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GArray) oversize = g_array_new (FALSE, FALSE, sizeof (ImapMsg));
  g_autoptr (GArray) notes = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
  g_autoptr (GHashTable) present = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint64 limit = (guint64) a->max_message_size * 1024;
  /* redo a delete or move a crash interrupted, where the server can do it
   * exactly once: a COPY without MOVE or UIDPLUS leaves the original
   * (flagged \Deleted) in place, and redoing it would copy again */
  gboolean removes = g_strcmp0 (a->after_delivery, "delete") == 0
                     || (g_str_has_prefix (a->after_delivery, "move:")
                         && (mailimap_has_extension (im->imap, "MOVE")
                             || mailimap_has_extension (im->imap, "UIDPLUS")));
  gboolean complete;
  guint32 validity;
  GHashTableIter iter;
  gpointer key;
  int r;

  if (journal == NULL)
    return FALSE;
  r = mailimap_select (im->imap, folder);
  if (r != MAILIMAP_NO_ERROR)
    return imap_fail (im, r, folder, error);
  validity = im->imap->imap_selection_info->sel_uidvalidity;
  if (f->uidnext && !f->dry_run)
    {
      guint32 *next = g_new (guint32, 1);
      *next = im->imap->imap_selection_info->sel_uidnext;
      g_hash_table_replace (f->uidnext, g_strdup (folder), next);
    }
  msgs = list_folder (im, folder, &complete, error);
  if (msgs == NULL)
    return FALSE;
  if (msgs->len > 0 && uidvalidity_changed (seen, validity) && !f->dry_run
      && !recover_uidvalidity (im, folder, validity, msgs, seen, error))
    return FALSE;

  for (guint i = 0; i < msgs->len; i++)
    {
      ImapMsg *m = &g_array_index (msgs, ImapMsg, i);
      char *uid = g_strdup_printf ("%u:%u", validity, m->uid);
      gint64 *fetched = g_hash_table_lookup (seen, uid);

      g_hash_table_add (present, uid);
      if (fetched == NULL)
        {
          f->stats.total++;
          if (limit && m->size > limit && g_strcmp0 (a->oversize, "fetch") != 0)
            {
              g_warning ("account %s: %s UID %u is %u KiB, over max_message_size; left on the server",
                         a->name, folder, m->uid, m->size / 1024);
              f->stats.skipped++;
              if (ms_fetch_notice_due (f, folder, uid))
                g_array_append_val (oversize, *m);
            }
          else
            g_array_append_val (todo, *m);
        }
      else if (a->keep_days > 0 && now - *fetched >= (gint64) a->keep_days * 86400)
        g_array_append_val (expired, m->uid);
      /* Delivered before. If it is still here although it should have
       * been deleted or moved, mailsift stopped between recording it and
       * telling the server: tell it now. (\Seen is not redone on every
       * run.) */
      else if (removes)
        g_array_append_val (redo, m->uid);
    }
  if (!f->dry_run)
    {
      if (complete)
        ms_fetch_forget_journal (f, folder, journal, present);
      if (!tell_server (im, expired, redo, error))
        return FALSE;
    }
  if (!fetch_new (im, folder, validity, journal, todo, error))
    return FALSE;
  /* a note in the INBOX about each message left on the server as too big */
  g_array_set_clear_func (notes, ms_fetch_item_clear);
  if (oversize->len && !fetch_batch (im, folder, validity, (ImapMsg *) oversize->data,
                                     oversize->len, TRUE, notes, error))
    return FALSE;
  for (guint i = 0; i < notes->len; i++)
    {
      MsFetchItem *item = &g_array_index (notes, MsFetchItem, i);
      g_autofree char *where = g_strdup_printf ("%s UID %s", folder, strchr (item->uid, ':') + 1);
      ms_fetch_notice_oversize (f, folder, item, where);
    }

  /* forget what the folder no longer holds (or what an old UIDVALIDITY
   * named); after a listing cut short, what is missing may still be there */
  g_hash_table_iter_init (&iter, seen);
  while (!f->dry_run && complete && g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (present, key))
      ms_state_seen_forget (f->state, a->name, folder, key, NULL);
  return TRUE;
}

/* LOGOUT after a good session; after a failure close without it (it
 * would wait for an answer from a server that may be gone). */
static void
imap_close (Imap *im, gboolean logout)
{
  if (im->imap == NULL)
    return;
  if (logout)
    mailimap_logout (im->imap);
  else if (im->imap->imap_stream)
    {
      mailstream_close (im->imap->imap_stream);
      im->imap->imap_stream = NULL;
    }
  mailimap_free (im->imap);
  im->imap = NULL;
}

static gboolean
imap_fetch (MsFetch *f, GError **error)
{
  Imap im = { .fetch = f };
  gboolean ok = connect_and_login (&im, error);

  if (ok)
    ms_net_set_deadline (im.imap->imap_stream, ms_fetch_net_deadline (f));
  f->fileinto_on_server = g_strcmp0 (f->account->fileinto_target, "server") == 0 && !f->dry_run;
  /* asked once per fetch: the filter process knows when the script (or
   * a script it includes) changed */
  f->needs_body = ok && (f->dry_run || f->fileinto_on_server) && ms_pipeline_needs_body (f->pipeline);
  for (guint i = 0; ok && f->account->folders && f->account->folders[i] && !f->deadline_hit; i++)
    ok = fetch_folder (&im, f->account->folders[i], error);
  imap_close (&im, ok);
  g_clear_error (&im.write_error);
  return ok;
}

/* Whether an untagged line the server sent during IDLE announces new
 * mail ("* 12 EXISTS"). Keep-alives ("* OK Still here"), flag changes and
 * expunges do not need a fetch. */
static gboolean
idle_news (const char *line)
{
  const char *p = line;

  if (!g_str_has_prefix (p, "* "))
    return FALSE;
  p += 2;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  return g_ascii_strncasecmp (p, " EXISTS", 7) == 0;
}

typedef struct {
  MsFetch *fetch;
  const char *folder;
  gint64 deadline;       /* monotonic */
  GCancellable *done;    /* cancelled once any folder has news, or failed */
  gboolean news;
  gboolean no_idle;      /* the server does not offer IDLE */
  GError *error;
} IdleFolder;

/* One folder's IDLE on a connection of its own: until new mail, the
 * deadline, an error, or @done. Every idle_keepalive seconds it ends IDLE
 * and starts it again: the server's answer to DONE proves the connection
 * is alive (a NAT or a suspended laptop can drop it without a word). */
static gpointer
idle_folder (gpointer data)
{
  IdleFolder *w = data;
  MsFetch *f = w->fetch;
  Imap im = { .fetch = f };
  gboolean ok = connect_and_login (&im, &w->error);
  guint32 *known;
  int r;

  if (ok && (r = mailimap_select (im.imap, w->folder)) != MAILIMAP_NO_ERROR)
    ok = imap_fail (&im, r, w->folder, &w->error);
  /* mail that arrived after the last fetch looked: fetch now */
  known = ok && f->uidnext ? g_hash_table_lookup (f->uidnext, w->folder) : NULL;
  if (known && im.imap->imap_selection_info->sel_uidnext != *known)
    w->news = TRUE;
  else if (ok && !mailimap_has_idle (im.imap))
    w->no_idle = TRUE;
  while (ok && !w->news && !w->no_idle && !g_cancellable_is_cancelled (w->done))
    {
      gint64 left = w->deadline - g_get_monotonic_time ();
      gint64 slice = MIN (left, (gint64) f->account->idle_keepalive * G_USEC_PER_SEC);

      if (left <= 0)
        break;
      if ((r = mailimap_idle (im.imap)) != MAILIMAP_NO_ERROR)
        {
          ok = imap_fail (&im, r, "IDLE", &w->error);
          break;
        }
      for (gint64 end = g_get_monotonic_time () + slice; !w->news;)
        {
          const char *line;
          gint64 wait = MAX (end - g_get_monotonic_time (), 0);

          if (!ms_net_wait_input (im.imap->imap_stream, (int) (wait / 1000), w->done))
            break; /* time for a keep-alive check, or the wait is over */
          line = mailimap_read_line (im.imap);
          if (line == NULL || g_str_has_prefix (line, "* BYE"))
            {
              g_set_error (&w->error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s: the server "
                           "ended the connection during IDLE%s%s", f->account->name, w->folder,
                           line ? ": " : "", line ? g_strchomp ((char *) line) : "");
              ok = FALSE;
              break;
            }
          w->news = idle_news (line);
        }
      if (ok && (r = mailimap_idle_done (im.imap)) != MAILIMAP_NO_ERROR)
        ok = imap_fail (&im, r, "ending IDLE (the connection is dead?)", &w->error);
    }
  imap_close (&im, ok);
  if (w->news || !ok)
    g_cancellable_cancel (w->done);
  return NULL;
}

static void
on_stop (GCancellable *stop, gpointer done)
{
  g_cancellable_cancel (done);
}

/* Wait for new mail with IDLE (RFC 2177) on every folder, each on a
 * connection of its own, for at most @timeout_s (kept under 29 minutes,
 * as RFC 2177 asks) or until @stop is cancelled. TRUE: new mail (or the
 * time is up), so fetch again; FALSE with @error: a connection failed.
 * Without IDLE on the server, waits poll_interval and returns TRUE. */
static gboolean
imap_wait (MsFetch *f, int timeout_s, GCancellable *stop, GError **error)
{
  const char *const inbox[] = { "INBOX", NULL };
  const char *const *folders = f->account->folders && f->account->folders[0]
                                 ? (const char *const *) f->account->folders : inbox;
  guint n = g_strv_length ((char **) folders);
  g_autofree IdleFolder *w = g_new0 (IdleFolder, n);
  g_autofree GThread **threads = g_new0 (GThread *, n);
  g_autoptr (GCancellable) done = g_cancellable_new ();
  gint64 deadline = g_get_monotonic_time () + (gint64) MIN (timeout_s, 28 * 60) * G_USEC_PER_SEC;
  gulong stop_id = stop ? g_cancellable_connect (stop, G_CALLBACK (on_stop), done, NULL) : 0;
  gboolean ok = TRUE, no_idle = FALSE;

  for (guint i = 0; i < n; i++)
    {
      w[i] = (IdleFolder) { f, folders[i], deadline, done, FALSE, FALSE, NULL };
      threads[i] = g_thread_new ("idle", idle_folder, &w[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      g_thread_join (threads[i]);
      no_idle |= w[i].no_idle;
      if (w[i].error && ok)
        {
          g_propagate_error (error, g_steal_pointer (&w[i].error));
          ok = FALSE;
        }
      g_clear_error (&w[i].error);
    }
  if (stop)
    g_cancellable_disconnect (stop, stop_id);
  if (ok && no_idle && !g_cancellable_is_cancelled (done))
    {
      g_info ("account %s: the server has no IDLE; checking every %d s", f->account->name,
              f->account->poll_interval);
      g_usleep ((gulong) f->account->poll_interval * G_USEC_PER_SEC);
    }
  return ok;
}

/* ---------------------------------------------------------------- deliver_to = imap: */

struct _MsImapStore {
  MsFetch as;  /* only .account (the destination) and .config: what the
                * connection code above reads */
  Imap im;
};

MsImapStore *
ms_imap_store_new (const MsConfig *config, const MsAccount *target)
{
  MsImapStore *s = g_new0 (MsImapStore, 1);

  s->as.account = target;
  s->as.config = config;
  s->im.fetch = &s->as;
  return s;
}

void
ms_imap_store_free (MsImapStore *s)
{
  if (s == NULL)
    return;
  imap_close (&s->im, TRUE);
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
  if (s->im.imap == NULL && !connect_and_login (&s->im, &local))
    {
      imap_close (&s->im, FALSE);
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "deliver_to = imap:%s: %s",
                   s->as.account->name, local->message);
      return FALSE;
    }
  for (int attempt = 0; attempt < 2; attempt++)
    {
      struct mailimap_flag_list *list = append_flags (flags);
      r = mailimap_append (s->im.imap, mailbox, list, NULL, wire->str, wire->len);
      mailimap_flag_list_free (list);
      if (r == MAILIMAP_NO_ERROR)
        return TRUE;
      /* [TRYCREATE]: a folder the destination does not have yet */
      if (attempt == 0 && r == MAILIMAP_ERROR_APPEND
          && mailimap_create (s->im.imap, mailbox) == MAILIMAP_NO_ERROR)
        {
          mailimap_subscribe (s->im.imap, mailbox);
          g_message ("account %s: created the folder %s", s->as.account->name, folder);
          continue;
        }
      break;
    }
  imap_fail (&s->im, r, "APPEND", error);
  g_prefix_error (error, "deliver_to = imap:%s: ", s->as.account->name);
  /* a broken connection is opened again for the next message */
  imap_close (&s->im, FALSE);
  return FALSE;
}

const MsSourceOps ms_source_imap = {
  .name = "imap",
  .fetch = imap_fetch,
  .wait = imap_wait,
};
