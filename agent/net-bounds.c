/* mailsift - network streams: the bounds on what a server may send (see
 * MsNetLimits in net.h), and the IMAP lines libetpan cannot read safely.
 *
 * The driver (net.c) hands every byte it gives libetpan to net_account()
 * first, which counts it against the stream's limits and, on an IMAP
 * stream, checks each line; a bound passed or an unsafe line drops the
 * connection and keeps the reason (net_refuse). */
#include "net-private.h"

#include "error.h"

#include <string.h>

/* ---------------------------------------------------------------- bounds */

/* A bound was hit: drop the connection (the server may not send more)
 * and keep the reason for the source's message. */
static gboolean G_GNUC_PRINTF (2, 3)
net_refuse (NetStream *ns, const char *format, ...)
{
  g_autoptr (GError) e = NULL;
  g_autofree char *what = NULL;
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  e = g_error_new (MS_ERROR, MS_ERROR_TEMPORARY, "%s: %s; connection dropped", ns->where, what);
  net_kill (ns, e);
  return FALSE;
}

/* ---------------------------------------------------------------- libetpan's parser
 *
 * Two kinds of IMAP line make libetpan 1.9.4 dereference NULL (its
 * newer releases still have the first):
 * - a quoted string or literal inside the response code of the greeting,
 *   or of a "+" continuation: mailimap_connect(), mailimap_idle() and the
 *   OAUTH2 exchange parse those without the parser context that the
 *   string parsers read ("* OK [BADCHARSET ("UTF-8")] ready");
 * - a PERMANENTFLAGS code whose first flag does not parse and that is
 *   not closed right after it: the error path frees a list that was
 *   never made ("* OK [PERMANENTFLAGS (\x01] x");
 * - an untagged CAPABILITY response that lists nothing.
 * Such a line never reaches libetpan: the connection is refused with a
 * reason instead of the account process dying. The flag syntax checked
 * is RFC 3501's, which is stricter than what libetpan accepts. */

#define NET_IMAP_HEAD 512 /* where those codes are: at the start of a line */

static gboolean
imap_atom_char (guchar c)
{
  return c > 0x20 && c < 0x7f && strchr ("(){%*\"\\]", c) == NULL;
}

/* A "{N}" inside a text line, not at its end, with N over @limit:
 * libetpan 1.9.4 allocates N bytes for a literal as soon as it has
 * parsed "{N}", before it looks for the line end that makes it one
 * (fuzz-imap: 2 GiB in an answer to LOGOUT). A literal at the end of a
 * line is checked apart. FALSE for such a number; the state carries
 * over from chunk to chunk. */
static gboolean
braces_within (NetStream *ns, const char *buf, gsize n, guint64 limit)
{
  for (gsize i = 0; i < n; i++)
    {
      char c = buf[i];

      if (ns->braced_over)
        {
          ns->braced_over = FALSE;
          if (c != '\r' && c != '\n')
            return FALSE;
        }
      if (c == '{')
        ns->in_braces = TRUE, ns->braced = 0;
      else if (ns->in_braces && g_ascii_isdigit (c))
        ns->braced = ns->braced > G_MAXUINT64 / 10 ? G_MAXUINT64 : ns->braced * 10 + (guint64) (c - '0');
      else
        {
          ns->braced_over = ns->in_braces && c == '}' && ns->braced > limit;
          ns->in_braces = FALSE;
        }
    }
  return TRUE;
}

/* Whether the @n bytes at @p start with @word (any case); @p moves past it. */
static gboolean
skip_word (const char **p, const char *end, const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (end - *p) < n || g_ascii_strncasecmp (*p, word, n) != 0)
    return FALSE;
  *p += n;
  return TRUE;
}

/* section-msgtext (RFC 3501): HEADER, HEADER.FIELDS[.NOT] (names), TEXT. */
static gboolean
section_msgtext (const char **p, const char *end)
{
  if (skip_word (p, end, "HEADER.FIELDS"))
    {
      skip_word (p, end, ".NOT");
      if (!skip_word (p, end, " ("))
        return FALSE;
      for (gboolean first = TRUE;; first = FALSE)
        {
          const char *name = *p;
          if (*p < end && **p == ')' && !first)
            break;
          if (!first && !skip_word (p, end, " "))
            return FALSE;
          if (*p < end && **p == '"')
            {
              for ((*p)++; *p < end && **p != '"'; (*p)++)
                if (**p == '\\' || (guchar) **p < 0x20 || (guchar) **p > 0x7e)
                  return FALSE;
              if (*p >= end)
                return FALSE;
              (*p)++;
            }
          else
            while (*p < end && (imap_atom_char ((guchar) **p) || **p == ']'))
              (*p)++;
          if (*p == name)
            return FALSE;
        }
      (*p)++; /* ")" */
      return TRUE;
    }
  return skip_word (p, end, "HEADER") || skip_word (p, end, "TEXT");
}

/* Whether @p (after "BODY[") holds a section RFC 3501 allows, closed by
 * "]": libetpan 1.9.4 leaks what it parsed of one that is not. */
static gboolean
section_ok (const char *p, const char *end)
{
  if (p < end && *p >= '1' && *p <= '9')
    {
      for (;;)
        {
          while (p < end && g_ascii_isdigit (*p))
            p++;
          if (p + 1 < end && *p == '.' && p[1] >= '1' && p[1] <= '9')
            {
              p++;
              continue;
            }
          break;
        }
      if (p < end && *p == '.')
        {
          p++;
          if (!skip_word (&p, end, "MIME") && !section_msgtext (&p, end))
            return FALSE;
        }
    }
  else if (p < end && *p != ']' && !section_msgtext (&p, end))
    return FALSE;
  return p < end && *p == ']';
}

const char *
ms_net_imap_unsafe (const char *line, gsize len, gboolean greeting)
{
  static const char perm[] = "[PERMANENTFLAGS (";
  const char *open, *p, *end = line + len;

  if (greeting || (len > 0 && line[0] == '+'))
    {
      open = memchr (line, '[', len);
      for (p = open; p != NULL && p < end && *p != ']'; p++)
        if (*p == '"' || *p == '{')
          return greeting ? "a quoted string or literal in the response code of its greeting"
                          : "a quoted string or literal in the response code of a continuation";
    }
  /* "* CAPABILITY" listing nothing: libetpan 1.9.4 then dereferences
   * NULL in mailimap_capability() (found by fuzz-imap); a server must
   * list IMAP4rev1 at least (RFC 3501 7.2.1) */
  if (len >= 12 && g_ascii_strncasecmp (line, "* CAPABILITY", 12) == 0)
    {
      for (p = line + 12; p < end && (*p == ' ' || *p == '\r' || *p == '\n'); p++)
        ;
      if (p == end && memchr (line, '\n', len) != NULL)
        return "a CAPABILITY response that lists nothing";
    }
  /* a CAPABILITY response code listing nothing, "[CAPABILITY]": libetpan
   * 1.9.4 keeps a capability record without a list, and reads NULL from
   * it in mailimap_capability() (fuzz-imap) */
  for (p = line; p + 11 <= end; p++)
    if (*p == '[' && g_ascii_strncasecmp (p, "[CAPABILITY", 11) == 0)
      {
        const char *q = p + 11;
        while (q < end && *q == ' ')
          q++;
        if (q < end && *q == ']')
          return "a CAPABILITY response code that lists nothing";
      }
  /* a FETCH response's BODY[section] that does not parse: libetpan 1.9.4
   * leaks the section spec it built (fuzz-imap) */
  if (len > 2 && line[0] == '*' && line[1] == ' ')
    for (p = line; p + 5 <= end; p++)
      if (g_ascii_strncasecmp (p, "BODY[", 5) == 0 && !section_ok (p + 5, end))
        return "a FETCH response with a malformed BODY[] section";
  for (p = line; p + sizeof perm - 1 <= end; p++)
    {
      const char *f;

      if (*p != '[' || g_ascii_strncasecmp (p, perm, sizeof perm - 1) != 0)
        continue;
      f = p + sizeof perm - 1;
      if (f < end && *f == ')')
        continue; /* an empty list */
      if (f < end && *f == '\\')
        f++; /* a system flag, or \* */
      if (f < end && *f == '*' && f[-1] == '\\')
        f++;
      else
        while (f < end && imap_atom_char ((guchar) *f))
          f++;
      if (f == p + sizeof perm - 1 || f[-1] == '\\' || f >= end || (*f != ' ' && *f != ')'))
        return "a malformed PERMANENTFLAGS response code";
    }
  return NULL;
}

/* "...{123}\r\n": the size of the literal that follows the line, or -1. */
static gint64
literal_announced (const char *tail, gsize len)
{
  gsize end = len;
  gsize i;

  if (end > 0 && tail[end - 1] == '\n')
    end--;
  if (end > 0 && tail[end - 1] == '\r')
    end--;
  if (end < 3 || tail[end - 1] != '}')
    return -1;
  i = end - 1;
  while (i > 0 && g_ascii_isdigit (tail[i - 1]))
    i--;
  if (i == 0 || i == end - 1 || tail[i - 1] != '{' || end - 1 - i > 19)
    return -1;
  return (gint64) g_ascii_strtoull (tail + i, NULL, 10);
}

/* Count @n bytes libetpan is about to get against the limits. FALSE:
 * a bound was hit and the stream is dead. */
gboolean
net_account (NetStream *ns, const char *buf, gsize n)
{
  const MsNetLimits *l = &ns->limits;

  while (n > 0)
    {
      const char *nl;
      gsize take;

      if (ns->literal_left > 0)
        {
          take = MIN (n, ns->literal_left);
          ns->literal_left -= take;
          buf += take, n -= take;
          continue;
        }
      nl = memchr (buf, '\n', n);
      take = nl ? (gsize) (nl - buf) + 1 : n;
      if (ns->trace)
        g_string_append_len (ns->trace_line, buf,
                             (gssize) MIN (take, NET_TRACE_WIDTH + 2 - MIN (ns->trace_line->len, NET_TRACE_WIDTH + 2)));
      if (l->imap && ns->line_len < NET_IMAP_HEAD)
        g_string_append_len (ns->imap_head, buf, (gssize) MIN (take, NET_IMAP_HEAD - ns->line_len));
      if (l->imap && l->literal && !braces_within (ns, buf, take, l->literal))
        {
          g_autofree char *max = ms_net_format_size (l->literal);
          return net_refuse (ns, "the server sent a literal size (\"{%" G_GUINT64_FORMAT "}\") over "
                             "the %s expected here, inside a line", ns->braced, max);
        }
      ns->line_len += take;
      ns->text += take;
      if (l->line && ns->line_len > l->line)
        {
          g_autofree char *max = ms_net_format_size (l->line);
          return net_refuse (ns, "the server sent a line longer than %s, the most mailsift accepts "
                             "outside a message", max);
        }
      if (l->text && ns->text > l->text)
        {
          g_autofree char *max = ms_net_format_size (l->text);
          return net_refuse (ns, "the server sent more than %s of text in answer to one command, "
                             "the most mailsift accepts", max);
        }
      if (take >= sizeof ns->tail)
        {
          memcpy (ns->tail, buf + take - sizeof ns->tail, sizeof ns->tail);
          ns->tail_len = sizeof ns->tail;
        }
      else
        {
          gsize keep = MIN (ns->tail_len, sizeof ns->tail - take);
          memmove (ns->tail, ns->tail + ns->tail_len - keep, keep);
          memcpy (ns->tail + keep, buf, take);
          ns->tail_len = keep + take;
        }
      buf += take, n -= take;
      if (nl == NULL)
        break;
      if (ns->trace)
        trace_in_line (ns);
      if (l->imap)
        {
          const char *why = ms_net_imap_unsafe (ns->imap_head->str, ns->imap_head->len, !ns->greeted);
          g_string_truncate (ns->imap_head, 0);
          if (why != NULL)
            return net_refuse (ns, "the server sent %s, which the IMAP library cannot read "
                               "safely", why);
        }
      ns->greeted = TRUE;
      ns->lines++;
      if (l->lines && ns->lines > l->lines)
        return net_refuse (ns, "the server sent more than %" G_GUINT64_FORMAT " lines in answer to "
                           "one command, the most mailsift accepts", l->lines);
      if (l->imap)
        {
          gint64 size = literal_announced (ns->tail, ns->tail_len);
          if (size > 0)
            {
              ns->literal_left = (guint64) size;
              ns->literals += (guint64) size;
              if (l->literal && (guint64) size > l->literal)
                {
                  g_autofree char *got = ms_net_format_size ((guint64) size), *max = ms_net_format_size (l->literal);
                  return net_refuse (ns, "the server announced a literal of %s (%" G_GINT64_FORMAT
                                     " bytes), more than the %s expected here (the size the "
                                     "server gave for the message, max_message_size, or "
                                     "mailsift's limit for anything else)", got, size, max);
                }
              if (l->literals && ns->literals > l->literals)
                {
                  g_autofree char *max = ms_net_format_size (l->literals);
                  return net_refuse (ns, "the server sent more than %s of literals in answer to "
                                     "one command, more than expected", max);
                }
            }
        }
      ns->line_len = 0;
      ns->tail_len = 0;
    }
  return TRUE;
}

/* ---------------------------------------------------------------- public */

/* (not g_format_size: it puts a no-break space before the unit) */
char *
ms_net_format_size (guint64 bytes)
{
  const guint64 kib = 1024, mib = 1024 * 1024;

  if (bytes >= mib)
    return bytes % mib == 0 ? g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", bytes / mib)
                            : g_strdup_printf ("%.1f MiB", bytes / (double) mib);
  if (bytes >= kib)
    return bytes % kib == 0 ? g_strdup_printf ("%" G_GUINT64_FORMAT " KiB", bytes / kib)
                            : g_strdup_printf ("%.1f KiB", bytes / (double) kib);
  return g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);
}

void
ms_net_limits_init (MsNetLimits *l, gboolean imap)
{
  *l = (MsNetLimits){
    .imap = imap,
    .line = MS_NET_LINE_MAX,
    .lines = MS_NET_LINES_MAX,
    .text = MS_NET_TEXT_MAX,
    .literal = MS_NET_LITERAL_MAX,
    .literals = MS_NET_LITERALS_MAX,
  };
}

void
ms_net_set_limits (mailstream *stream, const MsNetLimits *limits)
{
  NetStream *ns = net_stream_of (stream);

  g_return_if_fail (ns != NULL && limits != NULL);
  ns->limits = *limits;
}
