/* mailsift - POP3 source.
 *
 * libetpan runs the session (greeting, STLS, USER/PASS, QUIT); the
 * listing, RETR and DELE are sent here on the session's stream, because
 * libetpan's mailpop3_list() writes out of bounds on a "LIST" line for
 * message 0 and mailpop3_retr() holds a whole message in memory (see the
 * libetpan notes). RETR streams line by line into the spool file. A
 * message the server answers "-ERR" for is reported, counted as failed
 * and left on the server (never DELE'd); the others are fetched.
 *
 * A server may give the UIDL of a deleted message to a new one. So the
 * record of a message is forgotten as soon as QUIT confirmed its DELE,
 * and a message recorded as delivered is deleted only when its size and
 * header (TOP n 0) are those recorded; otherwise it is delivered again. */
#include "source.h"

#include "crash.h"
#include "error.h"
#include "header.h"
#include "net.h"

#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>

/* the line bound for a message LIST gave no size for */
#define MS_UNKNOWN_SIZE_LINE_MAX (64 * 1024 * 1024)
/* libetpan reads ahead of the line it hands over by up to its buffer */
#define NET_READ_AHEAD 8192

typedef struct {
  guint index;
  guint64 size;
  char *uidl;
} Pop3Msg;

typedef struct {
  MsFetch *fetch;
  mailpop3 *pop3;
  MMAPString *line;
  GArray *msgs; /* Pop3Msg */
  MsNetOptions net;
  gboolean pipelining; /* CAPA says PIPELINING (RFC 2449): send a batch of commands at once */
  /* kept across the sessions of one run: */
  GHashTable *skip;    /* UIDLs that came out of step: not asked for again this run */
  GHashTable *counted; /* UIDLs counted in the stats */
  gboolean out_of_step; /* a message was not the size LIST gave: the session cannot go on */
} Pop3;

static void
pop3_msg_clear (gpointer p)
{
  g_free (((Pop3Msg *) p)->uidl);
}

/* Why the connection is gone: the network layer's reason (a bound hit,
 * a timeout), or the plain fact. */
static const char *
lost (Pop3 *p)
{
  const GError *cause = p->pop3 ? ms_net_stream_error (p->pop3->pop3_stream) : NULL;

  return cause ? cause->message : "the connection was lost";
}

static gboolean
pop3_fail (Pop3 *p, GError **error, const char *what)
{
  const char *reply = p->pop3 && p->pop3->pop3_response ? p->pop3->pop3_response : "";
  const GError *cause = p->pop3 ? ms_net_stream_error (p->pop3->pop3_stream) : NULL;

  if (cause)
    g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s failed: %s",
                 p->fetch->account->name, what, cause->message);
  else
    g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s failed%s%s",
                 p->fetch->account->name, what, *reply ? ": " : "", reply);
  return FALSE;
}

/* The limits on what the server may send (see MsNetLimits). Our own
 * loops read POP3 a line at a time and keep none, so only the length of
 * one line is bounded here: to @line, or the default. */
static void
line_limit_stream (mailstream *stream, gsize line)
{
  MsNetLimits l;

  ms_net_limits_init (&l, FALSE);
  l.lines = l.text = 0;
  l.line = MAX (line, l.line);
  ms_net_set_limits (stream, &l);
}

static void
line_limit (Pop3 *p, gsize line)
{
  line_limit_stream (p->pop3->pop3_stream, line);
}

/* Queue a command; @flush sends what is queued. */
static gboolean
write_command (Pop3 *p, const char *command, gboolean flush, GError **error)
{
  g_autofree char *wire = g_strdup_printf ("%s\r\n", command);
  mailstream *s = p->pop3->pop3_stream;

  if (mailstream_write (s, wire, strlen (wire)) < 0 || (flush && mailstream_flush (s) < 0))
    return pop3_fail (p, error, command);
  return TRUE;
}

static gboolean
send_command (Pop3 *p, const char *command, GError **error)
{
  return write_command (p, command, TRUE, error);
}

/* Read the status line; TRUE for "+OK". Anything else is FALSE with
 * @error; but when @refused_out is given, an "-ERR" is FALSE with the
 * server's line there and no error (the session goes on). */
static gboolean
read_status_or_refusal (Pop3 *p, const char *command, char **refused_out, GError **error)
{
  char *l = mailstream_read_line_remove_eol (p->pop3->pop3_stream, p->line);

  if (l == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s: %s",
                   p->fetch->account->name, command, lost (p));
      return FALSE;
    }
  if (g_str_has_prefix (l, "+OK"))
    return TRUE;
  if (refused_out && g_str_has_prefix (l, "-ERR"))
    *refused_out = g_strdup (l);
  else
    g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s: the server said: %s",
                 p->fetch->account->name, command, l);
  return FALSE;
}

static gboolean
read_status (Pop3 *p, const char *command, GError **error)
{
  return read_status_or_refusal (p, command, NULL, error);
}

/* A multi-line listing ("UIDL", "LIST") of the @count messages STAT
 * announced: each line as (number, rest). A server that lists many more
 * (a line per message, kept here) is cut off. */
static gboolean
read_listing (Pop3 *p, const char *command, guint count, GHashTable *into, GError **error)
{
  guint64 lines = 0;

  if (!send_command (p, command, error) || !read_status (p, command, error))
    return FALSE;
  for (;;)
    {
      char *l = mailstream_read_line_remove_eol (p->pop3->pop3_stream, p->line);
      char *end;
      guint64 n;

      if (l == NULL)
        return pop3_fail (p, error, command);
      if (strcmp (l, ".") == 0)
        return TRUE;
      if (++lines > (guint64) count + 100)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY,
                       "account %s: %s:%u: %s lists more than %u lines, but STAT said there are %u "
                       "messages; connection dropped", p->fetch->account->name, p->net.host,
                       p->net.port, command, count + 100, count);
          return FALSE;
        }
      n = g_ascii_strtoull (l, &end, 10);
      if (end == l || n == 0 || n > G_MAXUINT || *end != ' ')
        {
          g_warning ("account %s: ignoring a bad %s line from the server: %.60s",
                     p->fetch->account->name, command, l);
          continue;
        }
      g_hash_table_replace (into, GUINT_TO_POINTER ((guint) n), g_strdup (g_strchug (end)));
    }
}

static gboolean
list_messages (Pop3 *p, GError **error)
{
  g_autoptr (GHashTable) uidls = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GHashTable) sizes = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  GHashTableIter iter;
  gpointer k, v;
  char *l, *end;
  guint64 count;

  /* how many messages there are: the listings hold a line for each */
  if (!send_command (p, "STAT", error) || !read_status (p, "STAT", error))
    return FALSE;
  l = p->line->str + 3;
  count = g_ascii_strtoull (l, &end, 10);
  if (end == l || count > G_MAXUINT - 100)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: STAT: the server's answer "
                   "\"%.60s\" does not say how many messages there are", p->fetch->account->name,
                   p->line->str);
      return FALSE;
    }
  if (!read_listing (p, "UIDL", (guint) count, uidls, error)
      || !read_listing (p, "LIST", (guint) count, sizes, error))
    return FALSE;
  g_hash_table_iter_init (&iter, uidls);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      Pop3Msg m = { GPOINTER_TO_UINT (k), 0, g_strdup (v) };
      const char *size = g_hash_table_lookup (sizes, k);
      m.size = size ? g_ascii_strtoull (size, NULL, 10) : 0;
      g_array_append_val (p->msgs, m);
    }
  return TRUE;
}

static int
msg_cmp (gconstpointer a, gconstpointer b)
{
  guint x = ((const Pop3Msg *) a)->index, y = ((const Pop3Msg *) b)->index;

  return x < y ? -1 : x > y;
}

/* The most bytes the server may send for @m: the size LIST gave plus a
 * little, and no more than max_message_size (unless oversize = fetch);
 * 0: no bound (LIST gave no size and there is no max_message_size). */
static guint64
message_cap (Pop3 *p, const Pop3Msg *m)
{
  const MsAccount *a = p->fetch->account;
  guint64 limit = a->oversize != MS_OVERSIZE_FETCH ? (guint64) a->max_message_size * 1024 : 0;
  guint64 cap = m->size ? m->size + MS_FETCH_SIZE_SLACK : 0;

  return cap && limit ? MIN (cap, limit) : cap ? cap : limit;
}

/* Read the answer to "RETR n" (or "TOP n 0" in a dry run) for @m,
 * already sent, into a spool file (closed, not synced), line by line,
 * undoing dot-stuffing. NULL with @error (the partial file removed), or,
 * when the server answered -ERR, with its line in *@refused_out. A
 * message that runs over message_cap() is cut off with an error: the
 * rest of it is still coming, so the session cannot go on. *@got_out:
 * the bytes received, as LIST counts them. */
static MsSpool *
read_message (Pop3 *p, const char *command, const Pop3Msg *m, gboolean header_only,
              guint64 *got_out, char **refused_out, GError **error)
{
  g_autoptr (MsSpoolWriter) w = NULL;
  guint64 cap = message_cap (p, m);
  guint64 got = 0; /* as LIST counts: every line end as CRLF */

  if (!read_status_or_refusal (p, command, refused_out, error))
    return NULL;
  w = header_only ? ms_spool_writer_new_scan ()
                  : ms_spool_writer_new (p->fetch->config->maildir, NULL, error);
  if (w == NULL)
    return NULL;
  for (;;)
    {
      char *l = mailstream_read_line (p->pop3->pop3_stream, p->line);
      gsize len;

      if (l == NULL)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: message %s (%s): %s",
                       p->fetch->account->name, m->uidl, command, lost (p));
          return NULL;
        }
      len = p->line->len;
      if (l[0] == '.' && (strcmp (l, ".\r\n") == 0 || strcmp (l, ".\n") == 0))
        break;
      if (l[0] == '.')
        l++, len--;
      got += len;
      if (len > 0 && l[len - 1] == '\n' && (len < 2 || l[len - 2] != '\r'))
        got++; /* a bare LF: LIST counted CRLF */
      if (cap && got > cap)
        {
          g_autofree char *max = ms_net_format_size (cap);
          g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY,
                       "account %s: %s:%u: message %s (%s): the server sent more than %s, but LIST "
                       "said %" G_GUINT64_FORMAT " bytes%s; connection dropped, the partial copy "
                       "removed and nothing deleted; tried again next time",
                       p->fetch->account->name, p->net.host, p->net.port, m->uidl, command, max,
                       m->size, p->fetch->account->max_message_size ? " (and max_message_size)" : "");
          return NULL;
        }
      if (!ms_spool_writer_write (w, l, len, error))
        return NULL;
    }
  *got_out = got;
  return ms_spool_writer_close (g_steal_pointer (&w), error);
}

/* Reads the answer to the @i-th command. */
typedef gboolean (*ReadAnswer) (Pop3 *p, guint i, const char *command, gpointer data, GError **error);

/* Send @commands one at a time, or all at once when the server allows
 * PIPELINING, and read each answer with @read. FALSE at the first
 * failure. */
static gboolean
run_commands (Pop3 *p, GPtrArray *commands, ReadAnswer read, gpointer data, GError **error)
{
  guint sent = 0;

  for (guint i = 0; i < commands->len; i++)
    {
      for (; sent < commands->len && (sent == i || p->pipelining); sent++)
        if (!write_command (p, commands->pdata[sent], sent + 1 == commands->len || !p->pipelining, error))
          return FALSE;
      if (!read (p, i, commands->pdata[i], data, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
read_ok (Pop3 *p, guint i, const char *command, gpointer data, GError **error)
{
  return read_status (p, command, error);
}

typedef struct {
  Pop3Msg **msgs;
  gboolean header_only; /* TOP n 0 */
  GArray *items;
  GPtrArray *got;       /* the Pop3Msg of each item */
} RetrBatch;

/* A message the server will not return (-ERR) is reported, counted as
 * failed and left out: it stays on the server (no DELE) and is asked for
 * again next time. */
static gboolean
read_retr (Pop3 *p, guint i, const char *command, gpointer data, GError **error)
{
  RetrBatch *b = data;
  g_autofree char *refused = NULL;
  guint64 got = 0;
  MsSpool *spool = read_message (p, command, b->msgs[i], b->header_only, &got, &refused, error);
  MsFetchItem item = { NULL, (gint64) b->msgs[i]->size, spool, MS_FETCH_KEPT_ON_SERVER };

  if (refused)
    {
      g_warning ("account %s: message %s (%s): the server would not return it (\"%s\"); it stays "
                 "on the server and is tried again next time", p->fetch->account->name,
                 b->msgs[i]->uidl, command, refused);
      p->fetch->stats.failed++;
      return TRUE;
    }
  if (spool == NULL)
    return FALSE;
  /* Not the size LIST gave (0: none given): a damaged copy, or the end
   * of the message was not where the server says. A server that does
   * not dot-stuff ends it early at a lone "." inside, and the rest of it
   * would be read as the next message's answer: nothing more can be
   * believed on this connection. It is dropped without QUIT, and the
   * run goes on in a new session without this message. */
  if (!b->header_only && b->msgs[i]->size != 0 && got != b->msgs[i]->size)
    {
      g_warning ("account %s: message %s (%s): the server sent %" G_GUINT64_FORMAT " bytes for it, "
                 "but LIST gave its size as %" G_GUINT64_FORMAT "; a partial or damaged copy is "
                 "not delivered: it stays on the server and is tried again next time",
                 p->fetch->account->name, b->msgs[i]->uidl, command, got, b->msgs[i]->size);
      p->fetch->stats.failed++;
      ms_spool_free (spool);
      g_hash_table_add (p->skip, g_strdup (b->msgs[i]->uidl));
      p->out_of_step = TRUE;
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s:%u: out of step after "
                   "message %s", p->fetch->account->name, p->net.host, p->net.port,
                   b->msgs[i]->uidl);
      return FALSE;
    }
  item.uid = g_strdup (b->msgs[i]->uidl);
  g_array_append_val (b->items, item);
  g_ptr_array_add (b->got, b->msgs[i]);
  return TRUE;
}

/* The server's CAPA list has PIPELINING. */
static gboolean
has_pipelining (Pop3 *p)
{
  gboolean found = FALSE;

  if (!send_command (p, "CAPA", NULL) || !read_status (p, "CAPA", NULL))
    return FALSE;
  for (;;)
    {
      char *l = mailstream_read_line_remove_eol (p->pop3->pop3_stream, p->line);
      if (l == NULL || strcmp (l, ".") == 0)
        return found;
      found |= g_ascii_strcasecmp (l, "PIPELINING") == 0;
    }
}

static gboolean
connect_and_login (Pop3 *p, GError **error)
{
  const MsAccount *a = p->fetch->account;
  g_autofree char *password = NULL;
  mailstream *stream;

  ms_net_options_init (&p->net, a->host, ms_account_port (a), a->tls, a->ca_file,
                       a->pin_sha256, a->timeout);
  if (p->net.tls != MS_TLS_NONE && !ms_net_tls_available (error))
    {
      g_prefix_error (error, "account %s: ", a->name);
      return FALSE;
    }
  if (a->oauth2_token_command && !a->password_command)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "account %s: OAuth2 (XOAUTH2) is not "
                   "supported for POP3 yet; use IMAP or a password_command", a->name);
      return FALSE;
    }
  stream = ms_net_connect (&p->net, error);
  if (stream == NULL)
    {
      g_prefix_error (error, "account %s: ", a->name);
      return FALSE;
    }
  p->pop3 = mailpop3_new (0, NULL);
  line_limit_stream (stream, 0);
  ms_net_set_deadline (stream, ms_fetch_net_deadline (p->fetch));
  if (mailpop3_connect (p->pop3, stream) != MAILPOP3_NO_ERROR)
    return pop3_fail (p, error, "the greeting");
  if (p->net.tls == MS_TLS_STARTTLS)
    {
      int r = mailpop3_stls (p->pop3);
      if (r == MAILPOP3_ERROR_SSL && ms_net_starttls_injected (p->pop3->pop3_stream, error))
        {
          g_prefix_error (error, "account %s: ", a->name);
          return FALSE;
        }
      if (r != MAILPOP3_NO_ERROR)
        return pop3_fail (p, error, "STLS (the server does not offer TLS; tls = implicit?)");
      if (!ms_net_starttls (p->pop3->pop3_stream, &p->net, error))
        {
          g_prefix_error (error, "account %s: ", a->name);
          return FALSE;
        }
    }
  password = ms_account_secret (a, FALSE, error);
  if (password == NULL)
    return FALSE;
  if (mailpop3_user (p->pop3, a->user) != MAILPOP3_NO_ERROR
      || mailpop3_pass (p->pop3, password) != MAILPOP3_NO_ERROR)
    {
      const char *reply = p->pop3->pop3_response ? p->pop3->pop3_response : "";
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "account %s: login as %s refused%s%s; "
                   "check user and password_command", a->name, a->user, *reply ? ": " : "", reply);
      return FALSE;
    }
  return TRUE;
}

static void
pop3_close (Pop3 *p, gboolean quit)
{
  if (p->pop3 == NULL)
    return;
  if (!quit && p->pop3->pop3_stream)
    {
      /* no QUIT: the server must not commit DELEs of a broken session */
      mailstream_close (p->pop3->pop3_stream);
      p->pop3->pop3_stream = NULL;
    }
  /* libetpan frees the greeting's APOP timestamp only in mailpop3_quit(),
   * which mailpop3_free() calls only while the stream is open; mailsift
   * closes it itself (after its own QUIT, or without one), so every
   * session with a greeting holding "<...>" leaked it */
  if (p->pop3->pop3_stream == NULL)
    {
      free (p->pop3->pop3_timestamp);
      p->pop3->pop3_timestamp = NULL;
    }
  mailpop3_free (p->pop3);
  p->pop3 = NULL;
}

/* RETR (or TOP n 0) @n messages into @items, and the Pop3Msg of each
 * item into @got (a message the server refuses has neither). */
static gboolean
retrieve (Pop3 *p, Pop3Msg **msgs, guint n, gboolean header_only, GArray *items, GPtrArray *got,
          GError **error)
{
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
  RetrBatch b = { msgs, header_only, items, got };
  guint64 longest = 0;
  gboolean ok;

  for (guint i = 0; i < n; i++)
    {
      guint64 cap = message_cap (p, msgs[i]);
      g_ptr_array_add (commands, header_only ? g_strdup_printf ("TOP %u 0", msgs[i]->index)
                                             : g_strdup_printf ("RETR %u", msgs[i]->index));
      /* a message of unknown size may have long lines too */
      longest = MAX (longest, cap ? cap : MS_UNKNOWN_SIZE_LINE_MAX);
    }
  /* a message's line may be as long as the message (one line ahead
   * is read early) */
  line_limit (p, MIN (longest, G_MAXSIZE - 2 * NET_READ_AHEAD) + 2 * NET_READ_AHEAD);
  ok = run_commands (p, commands, read_retr, &b, error);
  if (p->pop3->pop3_stream)
    line_limit (p, 0);
  return ok;
}

/* DELE @indexes (message numbers), marked for deletion at QUIT. */
static gboolean
mark_deleted (Pop3 *p, GArray *indexes, GError **error)
{
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < indexes->len; i++)
    g_ptr_array_add (commands, g_strdup_printf ("DELE %u", g_array_index (indexes, guint, i)));
  return run_commands (p, commands, read_ok, NULL, error);
}

/* Fetch @n messages, deliver them as one batch, DELE them if so
 * configured (their UIDLs go into @deleted). */
static gboolean
fetch_batch (Pop3 *p, Pop3Msg **msgs, guint n, GHashTable *journal, GPtrArray *deleted,
             GError **error)
{
  MsFetch *f = p->fetch;
  g_autoptr (GArray) items = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
  g_autoptr (GPtrArray) got = g_ptr_array_new ();
  g_autoptr (GArray) dele = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GError) fetch_error = NULL;
  g_autoptr (GError) deliver_error = NULL;
  gboolean fetched;

  g_array_set_clear_func (items, ms_fetch_item_clear);
  /* a dry run needs only the header (TOP n 0), unless the script reads
   * bodies */
  fetched = retrieve (p, msgs, n, f->dry_run && !f->needs_body, items, got, &fetch_error);
  if (f->dry_run)
    {
      for (guint i = 0; i < items->len; i++)
        {
          g_autofree char *where = g_strdup_printf ("message %u", ((Pop3Msg *) got->pdata[i])->index);
          ms_fetch_dry (f, g_array_index (items, MsFetchItem, i).spool, where);
        }
    }
  /* what arrived whole before a failure is delivered all the same */
  else if (!ms_fetch_deliver_batch (f, "", journal, items, &deliver_error) && fetched)
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
  if (f->account->after_delivery == MS_AFTER_DELIVERY_DELETE)
    for (guint i = 0; i < items->len; i++)
      if (g_array_index (items, MsFetchItem, i).outcome == MS_FETCH_DELIVERED)
        {
          g_array_append_val (dele, ((Pop3Msg *) got->pdata[i])->index);
          g_ptr_array_add (deleted, ((Pop3Msg *) got->pdata[i])->uidl);
        }
  if (!mark_deleted (p, dele, error))
    return FALSE;
  if (dele->len > 0)
    ms_crash_point ("pop3-dele");
  if (f->progress)
    f->progress (f, f->progress_data);
  return TRUE;
}

typedef struct {
  Pop3Msg **msgs;
  GHashTable *seen;
} Confirm;

/* The answer to "TOP n 0" for a message recorded as delivered that is
 * about to be deleted: unless its size and header are those recorded,
 * it is not the message delivered under that UIDL (or nothing proves it
 * is) and is taken out of @seen, to be delivered as new. */
static gboolean
read_top (Pop3 *p, guint i, const char *command, gpointer data, GError **error)
{
  Confirm *c = data;
  Pop3Msg *m = c->msgs[i];
  const MsAccount *a = p->fetch->account;
  g_autofree char *refused = NULL;
  guint64 got = 0;
  g_autoptr (MsSpool) head = read_message (p, command, m, TRUE, &got, &refused, error);
  g_autoptr (MsHeaderView) view = NULL;
  gboolean same = FALSE;
  gsize hlen;
  const char *h;

  if (head == NULL && refused == NULL)
    return FALSE;
  if (head == NULL)
    {
      g_warning ("account %s: message %s: the server will not show its header (\"%s\"), so "
                 "nothing proves it is the one delivered under that UIDL; delivering it again "
                 "rather than deleting it", a->name, m->uidl, refused);
      g_hash_table_remove (c->seen, m->uidl);
      return TRUE;
    }
  h = g_bytes_get_data (head->header, &hlen);
  view = ms_header_view_new (h, hlen);
  if (!ms_state_seen_same_message (p->fetch->state, a->name, "", m->uidl, (gint64) m->size,
                                   ms_header_view_get_first (view, "Message-ID"), head->header,
                                   &same, error))
    return FALSE;
  if (!same)
    {
      g_warning ("account %s: message %s: the server lists a message under the UIDL of one "
                 "delivered before, but its size or header differ (the server reused the UIDL); "
                 "delivering it rather than deleting it", a->name, m->uidl);
      g_hash_table_remove (c->seen, m->uidl);
    }
  return TRUE;
}

/* Before @n messages recorded as delivered are deleted: check with
 * TOP n 0 that each is still the message recorded under its UIDL. */
static gboolean
confirm_same (Pop3 *p, Pop3Msg **msgs, guint n, GHashTable *seen, GError **error)
{
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
  Confirm c = { msgs, seen };

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (commands, g_strdup_printf ("TOP %u 0", msgs[i]->index));
  return run_commands (p, commands, read_top, &c, error);
}

/* QUIT carried out the DELEs of @deleted: forget them, so that a new
 * message the server may give one of their UIDLs is not taken for them. */
static void
forget_deleted (Pop3 *p, GPtrArray *deleted)
{
  MsFetch *f = p->fetch;
  g_autoptr (GError) error = NULL;
  gboolean ok = TRUE;

  if (ms_state_begin (f->state, &error))
    {
      for (guint i = 0; ok && i < deleted->len; i++)
        ok = ms_state_seen_forget (f->state, f->account->name, "", deleted->pdata[i], &error);
      if (ok && ms_state_commit (f->state, &error))
        return;
      ms_state_rollback (f->state);
    }
  /* harmless: the next run checks a header before it deletes anything */
  g_warning ("account %s: the records of the messages just deleted could not be removed: %s",
             f->account->name, error->message);
}

/* Everything between login and QUIT. FALSE: stop this session. */
static gboolean
pop3_run (Pop3 *p, GHashTable *seen, GHashTable *journal, GError **error)
{
  MsFetch *f = p->fetch;
  const MsAccount *a = f->account;
  gboolean delete = a->after_delivery == MS_AFTER_DELIVERY_DELETE;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint64 limit = (guint64) a->max_message_size * 1024;
  g_autoptr (GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  g_autoptr (GArray) dele = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GPtrArray) oversize = g_ptr_array_new ();
  g_autoptr (GArray) notes = g_array_new (FALSE, TRUE, sizeof (MsFetchItem));
  g_autoptr (GPtrArray) noted = g_ptr_array_new ();
  g_autoptr (GPtrArray) deleted = g_ptr_array_new (); /* UIDLs, owned by p->msgs */
  g_autoptr (GPtrArray) confirm = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer uid;

  if (!connect_and_login (p, error) || !list_messages (p, error))
    return FALSE;
  p->pipelining = has_pipelining (p);
  g_array_sort (p->msgs, msg_cmp);
  /* what is to be deleted as delivered must be the message delivered */
  for (guint i = 0; !f->dry_run && i < p->msgs->len; i++)
    {
      Pop3Msg *m = &g_array_index (p->msgs, Pop3Msg, i);
      gint64 *fetched = g_hash_table_lookup (seen, m->uidl);

      if (fetched && (delete || (a->keep_days > 0 && now - *fetched >= (gint64) a->keep_days * 86400)))
        g_ptr_array_add (confirm, m);
    }
  if (confirm->len && !confirm_same (p, (Pop3Msg **) confirm->pdata, confirm->len, seen, error))
    return FALSE;
  for (guint i = 0; i < p->msgs->len; i++)
    {
      Pop3Msg *m = &g_array_index (p->msgs, Pop3Msg, i);
      gint64 *fetched = g_hash_table_lookup (seen, m->uidl);

      g_hash_table_add (present, m->uidl);
      if (fetched == NULL)
        {
          /* (a run of several sessions counts and reports each once) */
          gboolean first = g_hash_table_add (p->counted, g_strdup (m->uidl));

          f->stats.total += first;
          if (limit && m->size > limit && a->oversize != MS_OVERSIZE_FETCH)
            {
              if (first)
                g_warning ("account %s: message %s is %" G_GUINT64_FORMAT " KiB, over "
                           "max_message_size; left on the server", a->name, m->uidl, m->size / 1024);
              f->stats.skipped += first;
              if (ms_fetch_notice_due (f, "", m->uidl))
                g_ptr_array_add (oversize, m);
            }
          else if (!g_hash_table_contains (p->skip, m->uidl))
            g_ptr_array_add (todo, m);
        }
      /* delivered before: delete it now if it should have been (a crash
       * between recording it and QUIT), or if keep_days passed */
      else if (delete || (a->keep_days > 0 && now - *fetched >= (gint64) a->keep_days * 86400))
        {
          g_array_append_val (dele, m->index);
          g_ptr_array_add (deleted, m->uidl);
        }
    }
  if (!f->dry_run)
    {
      ms_fetch_forget_journal (f, "", journal, present);
      if (!mark_deleted (p, dele, error))
        return FALSE;
    }
  for (guint start = 0, n; start < todo->len && !ms_fetch_deadline_passed (f); start += n)
    {
      Pop3Msg **batch = (Pop3Msg **) todo->pdata + start;
      guint64 bytes = batch[0]->size;

      for (n = 1; start + n < todo->len && n < MS_FETCH_BATCH_MAX
                  && bytes + batch[n]->size <= MS_FETCH_BATCH_BYTES; n++)
        bytes += batch[n]->size;
      if (!fetch_batch (p, batch, n, journal, deleted, error))
        return FALSE;
    }
  /* a note in the INBOX about each message left on the server as too big */
  g_array_set_clear_func (notes, ms_fetch_item_clear);
  if (!retrieve (p, (Pop3Msg **) oversize->pdata, oversize->len, TRUE, notes, noted, error))
    return FALSE;
  for (guint i = 0; i < notes->len; i++)
    {
      g_autofree char *where = g_strdup_printf ("message %s", ((Pop3Msg *) noted->pdata[i])->uidl);
      ms_fetch_notice_oversize (f, "", &g_array_index (notes, MsFetchItem, i), where);
    }

  /* QUIT commits the DELEs; only then forget what the server no longer has */
  /* QUIT ourselves: libetpan's mailpop3_quit reports success even for
   * -ERR, and only +OK means the DELEs were carried out */
  if (!send_command (p, "QUIT", error) || !read_status (p, "QUIT", error))
    {
      g_prefix_error (error, "messages marked for deletion stay on the server: ");
      return FALSE;
    }
  mailstream_close (p->pop3->pop3_stream);
  p->pop3->pop3_stream = NULL;
  if (deleted->len)
    forget_deleted (p, deleted);
  g_hash_table_iter_init (&iter, seen);
  while (!f->dry_run && g_hash_table_iter_next (&iter, &uid, NULL))
    if (!g_hash_table_contains (present, uid))
      ms_state_seen_forget (f->state, a->name, "", uid, NULL);
  if (deleted->len)
    g_info ("account %s: %u messages deleted on the server", a->name, deleted->len);
  return TRUE;
}

/* One session: login to QUIT. */
static gboolean
pop3_session (MsFetch *f, GHashTable *skip, GHashTable *counted, gboolean *out_of_step,
              GError **error)
{
  Pop3 p = { f, NULL, mmap_string_new (""), g_array_new (FALSE, TRUE, sizeof (Pop3Msg)), { 0 },
             FALSE, skip, counted, FALSE };
  g_autoptr (GHashTable) seen = ms_state_seen_all (f->state, f->account->name, "", error);
  g_autoptr (GHashTable) journal = seen ? ms_state_journal_all (f->state, f->account->name, "", error) : NULL;
  gboolean ok;

  g_array_set_clear_func (p.msgs, pop3_msg_clear);
  ok = journal != NULL && pop3_run (&p, seen, journal, error);
  pop3_close (&p, ok);
  mmap_string_free (p.line);
  g_array_unref (p.msgs);
  *out_of_step = p.out_of_step;
  return ok;
}

static gboolean
pop3_fetch (MsFetch *f, GError **error)
{
  g_autoptr (GHashTable) skip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) counted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean out_of_step = FALSE;

  /* asked once per fetch */
  f->needs_body = f->dry_run && ms_pipeline_needs_body (f->pipeline);
  /* A session that came out of step ends without QUIT (the server
   * deletes nothing of it; what it delivered is deleted by the next
   * session, as after a crash); the next one leaves out the message
   * that did it. Each one leaves out one more, so this ends. */
  while (!pop3_session (f, skip, counted, &out_of_step, error))
    {
      if (!out_of_step)
        return FALSE;
      g_clear_error (error);
      g_info ("account %s: reconnecting to fetch the rest", f->account->name);
    }
  return TRUE;
}

const MsSourceOps ms_source_pop3 = {
  .name = "pop3",
  .fetch = pop3_fetch,
};
