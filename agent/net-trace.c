/* mailsift - network streams: the protocol trace (see net.c).
 *
 * The protocol trace of -vv (log_level = debug): "host:port: C: line" for
 * what mailsift sends, "host:port: S: line" for what the server answers.
 * Lines are cut at NET_TRACE_WIDTH bytes and at most NET_TRACE_LINES of
 * them are shown per command or answer, so a message body shows its
 * first lines only (IMAP literals not at all: their "{N}" says the size).
 * What could carry a secret is shown as [hidden]: the rest of a LOGIN,
 * PASS or APOP line, and the whole of an AUTH or AUTHENTICATE exchange,
 * until the server gives its final answer. */
#include "net-private.h"

#include <string.h>

#define NET_TRACE_LINES 40

static void
trace_show (NetStream *ns, char who, guint *count, const char *line, gsize len)
{
  g_autofree char *shown = NULL;

  if (*count > NET_TRACE_LINES)
    return;
  if ((*count)++ == NET_TRACE_LINES)
    {
      g_debug ("%s: %c: [more lines not shown]", ns->where, who);
      return;
    }
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    len--;
  shown = g_utf8_make_valid (line, (gssize) MIN (len, NET_TRACE_WIDTH));
  g_debug ("%s: %c: %s%s", ns->where, who, shown, len > NET_TRACE_WIDTH ? " [cut]" : "");
}

/* The word @i (0-based) of @line, or "". Transfer full. */
static char *
trace_word (const char *line, gsize len, guint i)
{
  gsize p = 0, start;

  for (;;)
    {
      while (p < len && (line[p] == ' ' || line[p] == '\t'))
        p++;
      start = p;
      while (p < len && line[p] != ' ' && line[p] != '\t' && line[p] != '\r' && line[p] != '\n')
        p++;
      if (i-- == 0 || start == p)
        return g_strndup (line + start, p - start);
    }
}

/* A line mailsift sends, as the trace shows it. Transfer full. */
static char *
trace_redact (NetStream *ns, const char *line, gsize len)
{
  g_autofree char *w0 = trace_word (line, len, 0), *w1 = trace_word (line, len, 1);
  g_autofree char *w2 = trace_word (line, len, 2);

  if (ns->secret)
    return g_strdup ("[hidden]");
  /* POP3 and SMTP: PASS, APOP, AUTH; IMAP: tag LOGIN, tag AUTHENTICATE */
  if (g_ascii_strcasecmp (w0, "PASS") == 0)
    return g_strdup ("PASS [hidden]");
  if (g_ascii_strcasecmp (w0, "APOP") == 0)
    return g_strdup_printf ("APOP %s [hidden]", w1);
  if (g_ascii_strcasecmp (w0, "AUTH") == 0)
    {
      ns->secret = TRUE;
      return g_strdup_printf ("AUTH %s [hidden]", w1);
    }
  if (g_ascii_strcasecmp (w1, "LOGIN") == 0)
    {
      ns->secret = TRUE;
      return g_strdup_printf ("%s LOGIN [hidden]", w0);
    }
  if (g_ascii_strcasecmp (w1, "AUTHENTICATE") == 0)
    {
      ns->secret = TRUE;
      return g_strdup_printf ("%s AUTHENTICATE %s [hidden]", w0, w2);
    }
  return g_strndup (line, len);
}

void
trace_out (NetStream *ns, const char *buf, gsize n)
{
  while (n > 0)
    {
      const char *nl = memchr (buf, '\n', n);
      gsize take = nl ? (gsize) (nl - buf) + 1 : n;
      g_autofree char *shown = trace_redact (ns, buf, take);

      trace_show (ns, 'C', &ns->trace_out, shown, strlen (shown));
      buf += take, n -= take;
    }
  ns->trace_in = 0;
}

/* A whole server line: shown, and the end of a secret exchange unless
 * it is a continuation (IMAP and POP3 "+", SMTP "334"). */
void
trace_in_line (NetStream *ns)
{
  const char *l = ns->trace_line->str;

  trace_show (ns, 'S', &ns->trace_in, l, ns->trace_line->len);
  if (l[0] != '+' && strncmp (l, "334", 3) != 0)
    ns->secret = FALSE;
  ns->trace_out = 0;
  g_string_truncate (ns->trace_line, 0);
}
