/* The fetch engine (agent/fetch.c) against an in-memory source: what is
 * fetched, in which batches, and that the server is told about a
 * message only once it is in the Maildir and recorded as seen. The
 * fake source checks that rule itself, at every remove and mark_seen. */
#include "deliver-maildir.h"
#include "engine.h"
#include "error.h"
#include "source.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  char *key;
  char *text;       /* the message, LF line ends */
  gboolean refused; /* the server will not return it */
  gboolean gone;    /* removed */
  gboolean seen;    /* flagged \Seen */
} FakeMsg;

/* The server: one mailbox, and what was asked of it. */
static struct {
  GPtrArray *msgs;      /* FakeMsg *, in order */
  GString *log;         /* "list;fetch 3;remove 1,2;..." */
  guint fetches;        /* fetch calls for whole messages */
  gboolean fail_remove; /* remove answers with an error */
  gboolean keys_reused;
  const char *maildir;
  MsState *state;       /* to check that what is told was recorded */
  const char *account;
} server;

struct _MsSource {
  MsFetch *fetch;
};

static void
fake_msg_free (gpointer p)
{
  FakeMsg *m = p;

  g_free (m->key);
  g_free (m->text);
  g_free (m);
}

static MsSource *
fake_open (MsFetch *f, GError **error)
{
  MsSource *s = g_new0 (MsSource, 1);

  s->fetch = f;
  g_string_append (server.log, "open;");
  return s;
}

static gboolean
fake_close (MsSource *s, gboolean ok, GError **error)
{
  g_string_append (server.log, ok ? "close;" : "drop;");
  g_free (s);
  return TRUE;
}

static GArray *
fake_list (MsSource *s, const char *folder, gboolean *complete_out, GError **error)
{
  GArray *msgs = g_array_new (FALSE, TRUE, sizeof (MsSourceMsg));

  g_array_set_clear_func (msgs, ms_source_msg_clear);
  *complete_out = TRUE;
  for (guint i = 0; i < server.msgs->len; i++)
    {
      FakeMsg *m = server.msgs->pdata[i];
      MsSourceMsg sm = { NULL, strlen (m->text), i + 1 };
      if (m->gone)
        continue;
      sm.key = g_strdup (m->key);
      g_array_append_val (msgs, sm);
    }
  g_string_append (server.log, "list;");
  return msgs;
}

static gboolean
fake_fetch (MsSource *s, const char *folder, const MsSourceMsg *msgs, guint n, gboolean header_only,
            GArray *items, GError **error)
{
  g_string_append_printf (server.log, "fetch %u%s;", n, header_only ? " headers" : "");
  server.fetches += !header_only;
  for (guint i = 0; i < n; i++)
    {
      FakeMsg *m = server.msgs->pdata[msgs[i].id - 1];
      g_autoptr (MsSpoolWriter) w = header_only ? ms_spool_writer_new_scan ()
                                                : ms_spool_writer_new (server.maildir, NULL, error);
      MsFetchItem item = { g_strdup (m->key), (gint64) strlen (m->text), NULL, MS_FETCH_KEPT_ON_SERVER };

      if (m->refused)
        {
          ms_fetch_count_failed (s->fetch, 1);
          g_free (item.uid);
          continue;
        }
      g_assert_nonnull (w);
      g_assert_true (ms_spool_writer_write (w, m->text, strlen (m->text), error));
      item.spool = ms_spool_writer_close (g_steal_pointer (&w), error);
      g_assert_nonnull (item.spool);
      g_array_append_val (items, item);
    }
  return TRUE;
}

/* Whether the text of message @m is in the Maildir's new/. */
static gboolean
in_maildir (const FakeMsg *m)
{
  g_autofree char *dir = g_build_filename (server.maildir, "new", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *text = NULL;
      if (g_file_get_contents (path, &text, NULL, NULL) && strcmp (text, m->text) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The rule: the server hears of a message only when it is delivered
 * and recorded. */
static void
check_told (GArray *ids)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) seen = ms_state_seen_all (server.state, server.account, "", &error);

  g_assert_no_error (error);
  for (guint i = 0; i < ids->len; i++)
    {
      FakeMsg *m = server.msgs->pdata[g_array_index (ids, guint32, i) - 1];
      g_assert_true (g_hash_table_contains (seen, m->key));
      g_assert_true (in_maildir (m));
    }
}

static void
log_ids (const char *what, GArray *ids)
{
  g_string_append_printf (server.log, "%s", what);
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (server.log, "%s%u", i ? "," : " ", g_array_index (ids, guint32, i));
  g_string_append_c (server.log, ';');
}

static gboolean
fake_remove (MsSource *s, GArray *ids, GError **error)
{
  if (server.fail_remove)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "the fake server will not remove");
      return FALSE;
    }
  check_told (ids);
  log_ids ("remove", ids);
  for (guint i = 0; i < ids->len; i++)
    ((FakeMsg *) server.msgs->pdata[g_array_index (ids, guint32, i) - 1])->gone = TRUE;
  return TRUE;
}

static gboolean
fake_mark_seen (MsSource *s, GArray *ids, GError **error)
{
  check_told (ids);
  log_ids ("seen", ids);
  for (guint i = 0; i < ids->len; i++)
    ((FakeMsg *) server.msgs->pdata[g_array_index (ids, guint32, i) - 1])->seen = TRUE;
  return TRUE;
}

static char *
fake_describe (const char *folder, const MsSourceMsg *m)
{
  return g_strdup_printf ("message %s", m->key);
}

static MsSourceOps fake_ops = {
  .name = "fake",
  .key_name = "key",
  .open = fake_open,
  .close = fake_close,
  .list = fake_list,
  .fetch = fake_fetch,
  .remove = fake_remove,
  .mark_seen = fake_mark_seen,
  .describe = fake_describe,
};

static char *
message (guint i, guint body_lines)
{
  GString *m = g_string_new (NULL);

  g_string_printf (m, "From: a%u@example.org\nSubject: message %u\nMessage-ID: <m%u@example.org>\n\n", i,
                   i, i);
  for (guint l = 0; l < body_lines; l++)
    g_string_append_printf (m, "line %u of message %u\n", l, i);
  return g_string_free (m, FALSE);
}

static void
add (guint n, guint body_lines)
{
  for (guint i = 0; i < n; i++)
    {
      FakeMsg *m = g_new0 (FakeMsg, 1);
      guint k = server.msgs->len + 1;
      m->key = g_strdup_printf ("k%u", k);
      m->text = message (k, body_lines);
      g_ptr_array_add (server.msgs, m);
    }
}

static guint
files_in_new (void)
{
  g_autofree char *dir = g_build_filename (server.maildir, "new", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d))
    n++;
  return n;
}

typedef struct {
  char *dir;
  MsConfig *config;
} Fixture;

static void
setup (Fixture *fx, gconstpointer extra)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL, *text = NULL;

  fx->dir = g_dir_make_tmp ("ms-unit-fetch-XXXXXX", NULL);
  path = g_build_filename (fx->dir, "config", NULL);
  text = g_strdup_printf ("[general]\nmaildir = %s/Maildir\nstate_dir = %s/state\n"
                          "addresses = me@example.org\n\n[account fake]\nprotocol = imap\n"
                          "host = 127.0.0.1\nuser = me\npassword_command = /bin/true\n%s",
                          fx->dir, fx->dir, (const char *) extra);
  g_assert_true (g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));
  fx->config = ms_config_load (path, NULL, &error);
  g_assert_no_error (error);
  server.msgs = g_ptr_array_new_with_free_func (fake_msg_free);
  server.log = g_string_new (NULL);
  server.fetches = 0;
  server.fail_remove = FALSE;
  server.maildir = fx->config->maildir;
  server.account = "fake";
  fake_ops.keys_reused = FALSE;
}

static void
teardown (Fixture *fx, gconstpointer extra)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", fx->dir);

  g_ptr_array_unref (server.msgs);
  g_string_free (server.log, TRUE);
  ms_config_free (fx->config);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (fx->dir);
}

/* One fetch; the stats are returned, the log starts afresh. */
static gboolean
run (Fixture *fx, gboolean dry_run, MsFetchStats *stats_out, GError **error)
{
  g_autoptr (MsState) state = ms_state_open (fx->config->state_dir, NULL);
  g_autoptr (MsEngine) engine = ms_engine_new ("/nonexistent/mailsift", MS_SIEVE_MAILSIFT, 5, 256);
  g_auto (MsPipeline) pipeline = { 0 };
  MsFetch f = { 0 };
  gboolean ok;

  g_assert_nonnull (state);
  g_string_truncate (server.log, 0);
  server.state = state;
  pipeline.config = fx->config;
  pipeline.engine = engine;
  pipeline.state = dry_run ? NULL : state;
  f.stats.folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f.account = fx->config->accounts->pdata[0];
  f.config = fx->config;
  f.pipeline = &pipeline;
  f.state = state;
  f.dry_run = dry_run;
  ok = ms_fetch_run (&f, &fake_ops, error);
  g_hash_table_unref (f.stats.folders);
  f.stats.folders = NULL;
  *stats_out = f.stats;
  server.state = NULL;
  return ok;
}

/* 300 messages: three batches (128, 128, 44), each removed once it is
 * delivered and recorded (the fake checks that at each remove); the
 * next run finds nothing new. */
static void
test_batches_delete (Fixture *fx, gconstpointer extra)
{
  g_autoptr (GError) error = NULL;
  MsFetchStats st;

  add (300, 3);
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.messages, ==, 300);
  g_assert_cmpuint (st.total, ==, 300);
  g_assert_cmpuint (files_in_new (), ==, 300);
  /* each batch is fetched while the one before is delivered, and told
   * once it is delivered and the next one is in */
  g_assert_nonnull (strstr (server.log->str, "list;fetch 128;fetch 128;remove 1,"));
  g_assert_nonnull (strstr (server.log->str, ",128;fetch 44;remove 129,"));
  g_assert_nonnull (strstr (server.log->str, ",256;remove 257,"));
  g_assert_true (g_str_has_suffix (server.log->str, "close;"));
  for (guint i = 0; i < server.msgs->len; i++)
    g_assert_true (((FakeMsg *) server.msgs->pdata[i])->gone);

  add (2, 1);
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_cmpuint (st.messages, ==, 2);
  g_assert_cmpstr (server.log->str, ==, "open;list;fetch 2;remove 301,302;close;");
}

/* after_delivery = seen: \Seen after the record; nothing is fetched twice. */
static void
test_seen (Fixture *fx, gconstpointer extra)
{
  g_autoptr (GError) error = NULL;
  MsFetchStats st;

  add (3, 2);
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_cmpstr (server.log->str, ==, "open;list;fetch 3;seen 1,2,3;close;");
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_cmpstr (server.log->str, ==, "open;list;close;");
  g_assert_cmpuint (files_in_new (), ==, 3);
}

/* A message the server will not return holds up no other; it is left
 * there and fetched once the server gives it. */
static void
test_refused (Fixture *fx, gconstpointer extra)
{
  g_autoptr (GError) error = NULL;
  MsFetchStats st;

  add (5, 2);
  ((FakeMsg *) server.msgs->pdata[2])->refused = TRUE;
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_cmpuint (st.messages, ==, 4);
  g_assert_cmpuint (st.failed, ==, 1);
  g_assert_cmpstr (server.log->str, ==, "open;list;fetch 5;remove 1,2,4,5;close;");
  ((FakeMsg *) server.msgs->pdata[2])->refused = FALSE;
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_cmpuint (st.messages, ==, 1);
  g_assert_cmpstr (server.log->str, ==, "open;list;fetch 1;remove 3;close;");
  g_assert_cmpuint (files_in_new (), ==, 5);
}

/* The server could not be told (a crash, a dropped connection): the
 * next run removes what is recorded, without fetching it again. */
static void
test_redo (Fixture *fx, gconstpointer extra)
{
  g_autoptr (GError) error = NULL;
  MsFetchStats st;

  add (4, 2);
  server.fail_remove = TRUE;
  g_assert_false (run (fx, FALSE, &st, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_TEMPORARY);
  g_clear_error (&error);
  g_assert_cmpuint (files_in_new (), ==, 4);
  g_assert_cmpstr (server.log->str, ==, "open;list;fetch 4;drop;");
  server.fail_remove = FALSE;
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (server.log->str, ==, "open;list;remove 1,2,3,4;close;");
  g_assert_cmpuint (st.messages, ==, 0);
  g_assert_cmpuint (files_in_new (), ==, 4);
}

/* Too big: left on the server, one note in the INBOX, once. */
static void
test_oversize (Fixture *fx, gconstpointer extra)
{
  g_autoptr (GError) error = NULL;
  MsFetchStats st;

  add (1, 2);
  add (1, 200); /* about 5 KiB */
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_cmpuint (st.messages, ==, 1);
  g_assert_cmpuint (st.skipped, ==, 1);
  g_assert_cmpstr (server.log->str, ==, "open;list;fetch 1;remove 1;fetch 1 headers;close;");
  g_assert_cmpuint (files_in_new (), ==, 2); /* the message and the note */
  g_assert_false (((FakeMsg *) server.msgs->pdata[1])->gone);
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_cmpstr (server.log->str, ==, "open;list;close;");
  g_assert_cmpuint (files_in_new (), ==, 2);
}

/* A dry run fetches headers only and changes nothing anywhere. */
static void
test_dry_run (Fixture *fx, gconstpointer extra)
{
  g_autoptr (GError) error = NULL;
  MsFetchStats st;

  add (3, 2);
  g_assert_true (run (fx, TRUE, &st, &error));
  g_assert_cmpstr (server.log->str, ==, "open;list;fetch 3 headers;close;");
  g_assert_cmpuint (files_in_new (), ==, 0);
  g_assert_cmpuint (server.fetches, ==, 0);
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_cmpuint (st.messages, ==, 3);
}

/* keys_reused: a key delivered before that now names another message
 * is delivered, not removed unseen. */
static void
test_key_reused (Fixture *fx, gconstpointer extra)
{
  g_autoptr (GError) error = NULL;
  FakeMsg *m;
  MsFetchStats st;

  fake_ops.keys_reused = TRUE;
  add (1, 2);
  server.fail_remove = TRUE; /* delivered and recorded, still on the server */
  g_assert_false (run (fx, FALSE, &st, &error));
  g_clear_error (&error);
  server.fail_remove = FALSE;
  m = server.msgs->pdata[0];
  g_free (m->text);
  m->text = message (99, 3); /* the server gave its key to another message */
  g_assert_true (run (fx, FALSE, &st, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (server.log->str, ==, "open;list;fetch 1 headers;fetch 1;remove 1;close;");
  g_assert_cmpuint (st.messages, ==, 1);
  g_assert_cmpuint (files_in_new (), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
#define T(path, fn, extra) g_test_add ("/fetch/engine/" path, Fixture, extra, setup, fn, teardown)
  T ("batches-delete", test_batches_delete, "after_delivery = delete\n");
  T ("seen", test_seen, "after_delivery = seen\n");
  T ("refused", test_refused, "after_delivery = delete\n");
  T ("redo-after-failed-tell", test_redo, "after_delivery = delete\n");
  T ("oversize", test_oversize, "after_delivery = delete\nmax_message_size = 2\n");
  T ("dry-run", test_dry_run, "after_delivery = delete\n");
  T ("key-reused", test_key_reused, "after_delivery = delete\n");
  return g_test_run ();
}
