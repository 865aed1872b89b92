#include "respond.h"

#include "address.h"

#include <string.h>

/* Local parts that belong to software, not people (RFC 5230 4.6). */
static gboolean
is_daemon_sender (const char *addr)
{
  g_autofree char *local = NULL;
  static const char *const exact[] = { "mailer-daemon", "listserv", "majordomo", "postmaster",
                                       "owner", "nobody", NULL };

  ms_address_split (addr, "", &local, NULL, NULL, NULL);
  if (local == NULL)
    return FALSE;
  for (char *p = local; *p; p++)
    *p = g_ascii_tolower (*p);
  return g_strv_contains (exact, local) || g_str_has_prefix (local, "owner-")
         || g_str_has_suffix (local, "-request") || g_str_has_suffix (local, "-bounces")
         || g_str_has_prefix (local, "bounce");
}

static gboolean
is_own_address (const MsConfig *config, const char *addr)
{
  for (guint i = 0; config->addresses && config->addresses[i]; i++)
    if (ms_address_equal (config->addresses[i], addr))
      return TRUE;
  return FALSE;
}

const char *
ms_respond_sender_refuses (const MsConfig *config, const MsHeaderView *view,
                           const char *envelope_from)
{
  static const char *const list_headers[] = { "List-Id", "List-Help", "List-Unsubscribe",
                                              "List-Subscribe", "List-Post", "List-Owner",
                                              "List-Archive", NULL };
  const char *v;

  if (envelope_from == NULL || *envelope_from == '\0' || strcmp (envelope_from, "<>") == 0)
    return "the envelope sender is empty (a bounce or notification)";
  if (!ms_address_is_valid (envelope_from, NULL))
    return "the envelope sender is not a valid address";
  if (is_daemon_sender (envelope_from))
    return "the sender is a mailer daemon, list server or bounce address";
  if (is_own_address (config, envelope_from))
    return "the sender is one of your own addresses";
  v = ms_header_view_get_first (view, "Auto-Submitted");
  if (v && g_ascii_strncasecmp (v, "no", 2) != 0)
    return "the message is Auto-Submitted";
  v = ms_header_view_get_first (view, "Precedence");
  if (v && (g_ascii_strcasecmp (v, "bulk") == 0 || g_ascii_strcasecmp (v, "list") == 0
            || g_ascii_strcasecmp (v, "junk") == 0))
    return "the message has Precedence: bulk, list or junk";
  for (guint i = 0; list_headers[i]; i++)
    if (ms_header_view_lookup (view, list_headers[i]))
      return "the message came through a mailing list (List-* header)";
  return NULL;
}

const char *
ms_vacation_refuses (const MsConfig *config, const MsHeaderView *view, const char *envelope_from,
                     const char *envelope_to, const MsAction *vacation)
{
  static const char *const recipient_headers[] = { "To", "Cc", "Bcc", "Resent-To", "Resent-Cc",
                                                   "Resent-Bcc", NULL };
  const char *why = ms_respond_sender_refuses (config, view, envelope_from);
  const char *suppress = ms_header_view_get_first (view, "X-Auto-Response-Suppress");
  g_autoptr (GPtrArray) mine = g_ptr_array_new ();

  if (why)
    return why;
  /* Microsoft's header: OOF or All asks for no out-of-office replies */
  if (suppress && (strcasestr (suppress, "OOF") || strcasestr (suppress, "All")))
    return "the sender asked for no automatic replies (X-Auto-Response-Suppress)";
  for (guint i = 0; config->addresses && config->addresses[i]; i++)
    g_ptr_array_add (mine, config->addresses[i]);
  if (vacation->from)
    g_ptr_array_add (mine, vacation->from);
  for (guint i = 0; vacation->addresses && vacation->addresses[i]; i++)
    g_ptr_array_add (mine, vacation->addresses[i]); /* :addresses (RFC 5230 4.5) */
  if (envelope_to && *envelope_to)
    g_ptr_array_add (mine, (gpointer) envelope_to);
  if (mine->len == 0)
    return "none of your addresses is known (set addresses in the config or pass -a)";

  for (guint h = 0; recipient_headers[h]; h++)
    {
      const char *const *values = ms_header_view_lookup (view, recipient_headers[h]);
      for (guint v = 0; values && values[v]; v++)
        {
          g_auto (GStrv) addrs = ms_address_list_parse (values[v]);
          for (guint a = 0; addrs[a]; a++)
            for (guint m = 0; m < mine->len; m++)
              if (ms_address_equal (addrs[a], mine->pdata[m]))
                return NULL;
        }
    }
  return "none of your addresses is in To, Cc or Bcc";
}

char *
ms_respond_unsafe (const MsAction *action)
{
  const char *field = NULL, *value = NULL;
  const char *why = ms_action_unsafe_field (action, &field, &value);
  g_autofree char *shown = why ? g_strescape (value, NULL) : NULL;

  return why ? g_strdup_printf ("its %s \"%s\" is refused: %s", field, shown, why) : NULL;
}

int
ms_vacation_days (const MsConfig *config, const MsAction *vacation)
{
  int days = vacation->days > 0 ? vacation->days : 7;

  return CLAMP (days, 1, config->vacation_max_days);
}

char *
ms_vacation_handle (const MsAction *vacation)
{
  g_autoptr (GChecksum) sum = NULL;

  if (vacation->handle && *vacation->handle)
    return g_strdup (vacation->handle);
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) (vacation->subject ? vacation->subject : ""), -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  g_checksum_update (sum, (const guchar *) (vacation->from ? vacation->from : ""), -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  g_checksum_update (sum, (const guchar *) (vacation->text ? vacation->text : ""), -1);
  return g_strndup (g_checksum_get_string (sum), 32);
}

char *
ms_respond_from_address (const MsConfig *config, const MsAction *action, const char *envelope_to)
{
  if (action && action->kind == MS_ACTION_VACATION && action->from && *action->from)
    return g_strdup (action->from);
  if (config->addresses && config->addresses[0])
    return g_strdup (config->addresses[0]);
  if (envelope_to && *envelope_to)
    return g_strdup (envelope_to);
  return NULL;
}

/* ---------------------------------------------------------------- building */

/* RFC 2047-encode @text for a header if it is not plain ASCII. */
static char *
encode_header_text (const char *text)
{
  g_autofree char *b64 = NULL;

  for (const char *p = text; *p; p++)
    if ((guchar) *p >= 0x80 || *p == '\n' || *p == '\r')
      {
        b64 = g_base64_encode ((const guchar *) text, strlen (text));
        return g_strdup_printf ("=?UTF-8?B?%s?=", b64);
      }
  return g_strdup (text);
}

static void
append_common (GString *m, const char *from, const char *to, const char *subject,
               const char *auto_submitted)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%a, %d %b %Y %H:%M:%S %z");
  g_autofree char *subj = encode_header_text (subject);
  const char *domain = from ? strrchr (from, '@') : NULL;

  g_string_append_printf (m, "Date: %s\n", date);
  g_string_append_printf (m, "From: <%s>\n", from ? from : "");
  g_string_append_printf (m, "To: <%s>\n", to);
  g_string_append_printf (m, "Subject: %s\n", subj);
  g_string_append_printf (m, "Message-ID: <%" G_GINT64_FORMAT ".%08x.mailsift@%s>\n",
                          g_get_real_time (), g_random_int (), domain ? domain + 1 : "localhost");
  g_string_append_printf (m, "Auto-Submitted: %s\n", auto_submitted);
  g_string_append (m, "MIME-Version: 1.0\n");
}

static void
append_references (GString *m, const MsHeaderView *original)
{
  const char *msgid = ms_header_view_get_first (original, "Message-ID");
  const char *refs = ms_header_view_get_first (original, "References");

  if (msgid == NULL)
    return;
  g_string_append_printf (m, "In-Reply-To: %s\n", msgid);
  g_string_append_printf (m, "References: %s%s%s\n", refs ? refs : "", refs ? " " : "", msgid);
}

static void
append_text_body (GString *m, const char *text)
{
  g_string_append (m, "Content-Type: text/plain; charset=UTF-8\n"
                      "Content-Transfer-Encoding: 8bit\n\n");
  g_string_append (m, text ? text : "");
  if (m->len && m->str[m->len - 1] != '\n')
    g_string_append_c (m, '\n');
}

GBytes *
ms_vacation_build (const MsHeaderView *original, const MsAction *vacation, const char *from,
                   const char *to)
{
  GString *m = g_string_new (NULL);
  g_autofree char *subject = NULL;
  const char *orig_subject = ms_header_view_get_first (original, "Subject");

  if (vacation->subject && *vacation->subject)
    subject = g_strdup (vacation->subject);
  else
    subject = g_strdup_printf ("Auto: %s", orig_subject ? orig_subject : "");
  append_common (m, from, to, subject, "auto-replied");
  append_references (m, original);
  if (vacation->mime)
    {
      /* :mime: the reason is a MIME entity with its own header */
      g_string_append (m, vacation->text ? vacation->text : "\n");
      if (m->str[m->len - 1] != '\n')
        g_string_append_c (m, '\n');
    }
  else
    append_text_body (m, vacation->text);
  return g_string_free_to_bytes (m);
}

GBytes *
ms_reject_build (const MsHeaderView *original, GBytes *original_header, const char *reason,
                 const char *from, const char *to, const char *final_recipient)
{
  GString *m = g_string_new (NULL);
  const char *orig_subject = ms_header_view_get_first (original, "Subject");
  const char *msgid = ms_header_view_get_first (original, "Message-ID");
  g_autofree char *subject = g_strdup_printf ("Rejected: %s", orig_subject ? orig_subject : "");
  g_autofree char *boundary = g_strdup_printf ("mailsift-%08x%08x", g_random_int (), g_random_int ());
  gsize hlen;
  const char *header = g_bytes_get_data (original_header, &hlen);

  append_common (m, from, to, subject, "auto-replied");
  append_references (m, original);
  g_string_append_printf (m, "Content-Type: multipart/report; report-type=disposition-notification;\n"
                             " boundary=\"%s\"\n\n", boundary);
  g_string_append_printf (m, "--%s\nContent-Type: text/plain; charset=UTF-8\n"
                             "Content-Transfer-Encoding: 8bit\n\n", boundary);
  g_string_append_printf (m, "Your message to %s was rejected by the recipient's filter:\n\n%s\n",
                          final_recipient ? final_recipient : "the recipient", reason ? reason : "");
  g_string_append_printf (m, "\n--%s\nContent-Type: message/disposition-notification\n\n", boundary);
  g_string_append (m, "Reporting-UA: mailsift; Sieve\n");
  if (final_recipient)
    g_string_append_printf (m, "Final-Recipient: rfc822; %s\n", final_recipient);
  if (msgid)
    g_string_append_printf (m, "Original-Message-ID: %s\n", msgid);
  g_string_append (m, "Disposition: automatic-action/MDN-sent-automatically; deleted\n");
  g_string_append_printf (m, "\n--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
  g_string_append_len (m, header, hlen);
  if (hlen == 0 || header[hlen - 1] != '\n')
    g_string_append_c (m, '\n');
  g_string_append_printf (m, "\n--%s--\n", boundary);
  return g_string_free_to_bytes (m);
}

GBytes *
ms_notify_build (const MsHeaderView *original, const MsAction *notify, const char *from,
                 const char *to)
{
  GString *m = g_string_new (NULL);
  const char *orig_from = ms_header_view_get_first (original, "From");
  const char *orig_subject = ms_header_view_get_first (original, "Subject");
  g_autofree char *text = NULL;
  g_autofree char *subject = NULL;
  GString *t = g_string_new (NULL);

  /* draft-martin notify: $from$ and $subject$ in the message are expanded */
  for (const char *p = notify->text ? notify->text : "$from$: $subject$"; *p;)
    {
      if (g_str_has_prefix (p, "$from$"))
        g_string_append (t, orig_from ? orig_from : ""), p += 6;
      else if (g_str_has_prefix (p, "$subject$"))
        g_string_append (t, orig_subject ? orig_subject : ""), p += 9;
      else
        g_string_append_c (t, *p++);
    }
  text = g_string_free (t, FALSE);
  subject = g_strndup (text, strcspn (text, "\n"));
  if (g_utf8_strlen (subject, -1) > 120)
    *g_utf8_offset_to_pointer (subject, 120) = '\0';
  append_common (m, from, to, subject, "auto-notified");
  append_text_body (m, text);
  return g_string_free_to_bytes (m);
}

GBytes *
ms_failure_notice_build (const char *to, const char *reason, const char *rcpt, const char *reply,
                         const char *id, GBytes *original, char **tail_out)
{
  GString *m = g_string_new (NULL);
  gsize len;
  const char *data = g_bytes_get_data (original, &len);
  g_autoptr (MsHeaderView) view = ms_header_view_new (data, len);
  const char *subject = ms_header_view_get_first (view, "Subject");
  g_autofree char *subj = g_strdup_printf ("Not delivered: %s", subject ? subject : "(no subject)");
  g_autofree char *boundary = g_strdup_printf ("mailsift-%08x%08x", g_random_int (), g_random_int ());

  append_common (m, "mailsift@localhost", to ? to : "you", subj, "auto-generated");
  g_string_append_printf (m, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", boundary);
  g_string_append_printf (m, "--%s\nContent-Type: text/plain; charset=UTF-8\n"
                             "Content-Transfer-Encoding: 8bit\n\n", boundary);
  g_string_append_printf (m, "mailsift could not send a message (%s) to <%s>, and has given up.\n\n"
                             "The answer was: %s\n\nQueue entry: %s\n\n"
                             "The whole message is attached.\n",
                          reason, rcpt, reply ? reply : "(none)", id);
  g_string_append_printf (m, "\n--%s\nContent-Type: message/rfc822\n"
                             "Content-Disposition: attachment\n\n", boundary);
  *tail_out = g_strdup_printf ("\n--%s--\n", boundary);
  return g_string_free_to_bytes (m);
}

GBytes *
ms_oversize_notice_build (const char *to, const char *account, const char *where, guint64 size,
                          guint64 limit, GBytes *header)
{
  GString *m = g_string_new (NULL);
  gsize len;
  const char *data = g_bytes_get_data (header, &len);
  g_autoptr (MsHeaderView) view = ms_header_view_new (data, len);
  const char *subject = ms_header_view_get_first (view, "Subject");
  const char *from = ms_header_view_get_first (view, "From");
  const char *date = ms_header_view_get_first (view, "Date");
  g_autofree char *subj = g_strdup_printf ("Left on the server (too big): %s",
                                           subject ? subject : "(no subject)");
  g_autofree char *boundary = g_strdup_printf ("mailsift-%08x%08x", g_random_int (), g_random_int ());

  append_common (m, "mailsift@localhost", to ? to : "you", subj, "auto-generated");
  g_string_append_printf (m, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", boundary);
  g_string_append_printf (m, "--%s\nContent-Type: text/plain; charset=UTF-8\n"
                             "Content-Transfer-Encoding: 8bit\n\n", boundary);
  g_string_append_printf (m, "A message of %" G_GUINT64_FORMAT " KiB is bigger than max_message_size "
                             "(%" G_GUINT64_FORMAT " KiB) of account %s, so mailsift left it on the "
                             "server (%s) and did not filter it.\n\n"
                             "  From:    %s\n  Subject: %s\n  Date:    %s\n\n"
                             "To have it fetched, raise max_message_size or set oversize = fetch "
                             "for the account, or read it with your mail client.\n"
                             "This notice is sent once per message. Its header is attached.\n",
                          size / 1024, limit / 1024, account, where, from ? from : "(unknown)",
                          subject ? subject : "(none)", date ? date : "(unknown)");
  g_string_append_printf (m, "\n--%s\nContent-Type: text/rfc822-headers\n"
                             "Content-Disposition: attachment\n\n", boundary);
  g_string_append_len (m, data, len);
  g_string_append_printf (m, "\n--%s--\n", boundary);
  return g_string_free_to_bytes (m);
}
