/* mailsift - POP3 source: the protocol steps the fetch engine uses
 * (fetch.c).
 *
 * libetpan runs the session (greeting, STLS, USER/PASS); the listing,
 * RETR, TOP, DELE and QUIT are sent here on the session's stream,
 * because libetpan's mailpop3_list() writes out of bounds on a "LIST"
 * line for message 0, mailpop3_retr() holds a whole message in memory
 * and mailpop3_quit() reports success even for -ERR. RETR streams line
 * by line into the spool file, several at once when the server offers
 * PIPELINING. A message the server answers "-ERR" for is reported,
 * counted as failed and left on the server (never DELE'd).
 *
 * A server may give the UIDL of a deleted message to a new one: the
 * engine (keys_reused) checks a header before it deletes a message
 * recorded as delivered, and forgets the record once QUIT confirmed the
 * DELE. */
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

typedef struct _MsSource Pop3;
struct _MsSource {
  MsFetch *fetch;
  mailpop3 *pop3;
  MMAPString *line;
  MsNetOptions net;
  gboolean pipelining; /* CAPA says PIPELINING (RFC 2449): send a batch of commands at once */
};

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

static gboolean has_pipelining (Pop3 *p);

static int
msg_cmp (gconstpointer a, gconstpointer b)
{
  guint32 x = ((const MsSourceMsg *) a)->id, y = ((const MsSourceMsg *) b)->id;

  return x < y ? -1 : x > y;
}

/* STAT, UIDL and LIST: every message, by message number. */
static GArray *
pop3_list (MsSource *p, const char *folder, gboolean *complete_out, GError **error)
{
  g_autoptr (GHashTable) uidls = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GHashTable) sizes = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GArray) msgs = g_array_new (FALSE, TRUE, sizeof (MsSourceMsg));
  GHashTableIter iter;
  gpointer k, v;
  char *l, *end;
  guint64 count;

  *complete_out = TRUE;
  g_array_set_clear_func (msgs, ms_source_msg_clear);
  /* how many messages there are: the listings hold a line for each */
  if (!send_command (p, "STAT", error) || !read_status (p, "STAT", error))
    return NULL;
  l = p->line->str + 3;
  count = g_ascii_strtoull (l, &end, 10);
  if (end == l || count > G_MAXUINT - 100)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: STAT: the server's answer "
                   "\"%.60s\" does not say how many messages there are", p->fetch->account->name,
                   p->line->str);
      return NULL;
    }
  if (!read_listing (p, "UIDL", (guint) count, uidls, error)
      || !read_listing (p, "LIST", (guint) count, sizes, error))
    return NULL;
  g_hash_table_iter_init (&iter, uidls);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      MsSourceMsg m = { g_strdup (v), 0, GPOINTER_TO_UINT (k) };
      const char *size = g_hash_table_lookup (sizes, k);
      m.size = size ? g_ascii_strtoull (size, NULL, 10) : 0;
      g_array_append_val (msgs, m);
    }
  g_array_sort (msgs, msg_cmp);
  /* asked after the listing, as always (scripted test servers rely on
   * the order) */
  p->pipelining = has_pipelining (p);
  return g_steal_pointer (&msgs);
}

/* The most bytes the server may send for @m: the size LIST gave plus a
 * little, and no more than max_message_size (unless oversize = fetch);
 * 0: no bound (LIST gave no size and there is no max_message_size). */
static guint64
message_cap (Pop3 *p, const MsSourceMsg *m)
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
read_message (Pop3 *p, const char *command, const MsSourceMsg *m, gboolean header_only,
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
                       p->fetch->account->name, m->key, command, lost (p));
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
                       p->fetch->account->name, p->net.host, p->net.port, m->key, command, max,
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
  const MsSourceMsg *msgs;
  gboolean header_only; /* TOP n 0 */
  GArray *items;
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
  MsSpool *spool = read_message (p, command, &b->msgs[i], b->header_only, &got, &refused, error);
  MsFetchItem item = { NULL, (gint64) b->msgs[i].size, spool, MS_FETCH_KEPT_ON_SERVER };

  if (refused)
    {
      g_warning ("account %s: message %s (%s): the server would not return it (\"%s\"); it stays "
                 "on the server and is tried again next time", p->fetch->account->name,
                 b->msgs[i].key, command, refused);
      ms_fetch_count_failed (p->fetch, 1);
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
  if (!b->header_only && b->msgs[i].size != 0 && got != b->msgs[i].size)
    {
      g_warning ("account %s: message %s (%s): the server sent %" G_GUINT64_FORMAT " bytes for it, "
                 "but LIST gave its size as %" G_GUINT64_FORMAT "; a partial or damaged copy is "
                 "not delivered: it stays on the server and is tried again next time",
                 p->fetch->account->name, b->msgs[i].key, command, got, b->msgs[i].size);
      ms_fetch_count_failed (p->fetch, 1);
      ms_spool_free (spool);
      g_hash_table_add (p->fetch->skip, g_strdup (b->msgs[i].key));
      p->fetch->out_of_step = TRUE;
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s:%u: out of step after "
                   "message %s", p->fetch->account->name, p->net.host, p->net.port,
                   b->msgs[i].key);
      return FALSE;
    }
  item.uid = g_strdup (b->msgs[i].key);
  g_array_append_val (b->items, item);
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

/* RETR (or TOP n 0) @n messages into @items (a message the server
 * refuses is left out). */
static gboolean
pop3_fetch_msgs (MsSource *p, const char *folder, const MsSourceMsg *msgs, guint n, gboolean header_only,
                 GArray *items, GError **error)
{
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
  RetrBatch b = { msgs, header_only, items };
  guint64 longest = 0;
  gboolean ok;

  for (guint i = 0; i < n; i++)
    {
      guint64 cap = message_cap (p, &msgs[i]);
      g_ptr_array_add (commands, header_only ? g_strdup_printf ("TOP %u 0", msgs[i].id)
                                             : g_strdup_printf ("RETR %u", msgs[i].id));
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

/* DELE @ids (message numbers), carried out at QUIT. */
static gboolean
pop3_remove (MsSource *p, GArray *ids, GError **error)
{
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < ids->len; i++)
    g_ptr_array_add (commands, g_strdup_printf ("DELE %u", g_array_index (ids, guint32, i)));
  if (!run_commands (p, commands, read_ok, NULL, error))
    return FALSE;
  if (ids->len > 0)
    ms_crash_point ("pop3-dele");
  return TRUE;
}

static MsSource *
pop3_open (MsFetch *f, GError **error)
{
  Pop3 *p = g_new0 (Pop3, 1);

  p->fetch = f;
  p->line = mmap_string_new ("");
  if (!connect_and_login (p, error))
    {
      pop3_close (p, FALSE);
      mmap_string_free (p->line);
      g_free (p);
      return NULL;
    }
  return p;
}

/* QUIT commits the DELEs: only +OK means they were carried out, so QUIT
 * is sent here (libetpan's mailpop3_quit reports success even for
 * -ERR). Without @ok, no QUIT: the server must not commit the DELEs of a
 * broken session. */
static gboolean
pop3_end (MsSource *p, gboolean ok, GError **error)
{
  gboolean done = ok;

  if (ok && (!send_command (p, "QUIT", error) || !read_status (p, "QUIT", error)))
    {
      g_prefix_error (error, "messages marked for deletion stay on the server: ");
      done = FALSE;
    }
  else if (ok)
    {
      mailstream_close (p->pop3->pop3_stream);
      p->pop3->pop3_stream = NULL;
    }
  pop3_close (p, FALSE);
  mmap_string_free (p->line);
  g_free (p);
  return done;
}

static char *
pop3_describe (const char *folder, const MsSourceMsg *m)
{
  return g_strdup_printf ("message %s", m->key);
}

const MsSourceOps ms_source_pop3 = {
  .name = "pop3",
  .key_name = "UIDL",
  .keys_reused = TRUE,
  .open = pop3_open,
  .close = pop3_end,
  .list = pop3_list,
  .fetch = pop3_fetch_msgs,
  .remove = pop3_remove,
  .describe = pop3_describe,
};
