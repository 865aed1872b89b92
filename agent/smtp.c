#include "smtp.h"

#include "address.h"
#include "error.h"
#include "net.h"

#include <libetpan/libetpan.h>
#include <string.h>

struct _MsSmtp {
  const MsSmtpHost *host;
  mailsmtp *session;
  MsNetOptions net;
};

static char *
last_reply (MsSmtp *s)
{
  const char *r = s->session && s->session->response ? s->session->response : "";
  char *text = g_strdup_printf ("%d %s", s->session ? s->session->response_code : 0, r);

  /* multi-line replies come joined by newlines: one line for logs */
  g_strdelimit (g_strchomp (text), "\r\n", ' ');
  return text;
}

static gboolean
fail (MsSmtp *s, const char *what, GError **error)
{
  g_autofree char *reply = last_reply (s);
  int code = s->session ? s->session->response_code : 0;

  if (code == 0) /* no answer at all */
    {
      g_free (reply);
      reply = g_strdup ("the connection was closed or broke before the server answered");
    }
  g_set_error (error, MS_ERROR, code >= 500 && code < 600 ? MS_ERROR_ACCOUNT : MS_ERROR_TEMPORARY,
               "smtp %s (%s:%d): %s failed: %s", s->host->name, s->host->host, s->net.port, what,
               reply);
  return FALSE;
}

void
ms_smtp_close (MsSmtp *s, gboolean quit)
{
  if (s == NULL)
    return;
  if (s->session)
    {
      if (quit)
        mailsmtp_quit (s->session);
      if (s->session->stream)
        {
          mailstream_close (s->session->stream);
          s->session->stream = NULL;
        }
      mailsmtp_free (s->session);
    }
  g_free (s);
}

static gboolean
authenticate (MsSmtp *s, GError **error)
{
  const MsSmtpHost *h = s->host;
  g_autofree char *owner = g_strdup_printf ("smtp %s", h->name);
  gboolean oauth2 = h->auth == MS_SMTP_AUTH_XOAUTH2
                    || (h->auth == MS_SMTP_AUTH_AUTO && h->password_command == NULL);
  g_autofree char *secret = ms_config_run_secret (owner, oauth2 ? "oauth2_token_command" : "password_command",
                                                  oauth2 ? h->oauth2_token_command : h->password_command,
                                                  h->command_timeout, error);
  const char *mech = h->auth == MS_SMTP_AUTH_LOGIN ? "LOGIN" : "PLAIN";
  int r;

  if (secret == NULL)
    return FALSE;
  r = oauth2 ? mailsmtp_oauth2_authenticate (s->session, h->user, secret)
             : mailesmtp_auth_sasl (s->session, mech, h->host, NULL, NULL, h->user, h->user, secret, NULL);
  if (r != MAILSMTP_NO_ERROR)
    {
      g_autofree char *reply = last_reply (s);
      g_set_error (error, MS_ERROR, MS_ERROR_ACCOUNT, "smtp %s: login as %s refused (%s): %s; "
                   "check user and %s", h->name, h->user, oauth2 ? "XOAUTH2" : mech, reply,
                   oauth2 ? "oauth2_token_command" : "password_command");
      return FALSE;
    }
  return TRUE;
}

MsSmtp *
ms_smtp_connect (const MsSmtpHost *h, GError **error)
{
  MsSmtp *s = g_new0 (MsSmtp, 1);
  mailstream *stream;

  s->host = h;
  ms_net_options_init (&s->net, h->host, ms_smtp_host_port (h), h->tls, h->ca_file, h->pin_sha256,
                       h->timeout);
  stream = ms_net_connect (&s->net, error);
  if (stream == NULL)
    {
      g_prefix_error (error, "smtp %s: ", h->name);
      ms_smtp_close (s, FALSE);
      return NULL;
    }
  s->session = mailsmtp_new (0, NULL);
  if (mailsmtp_connect (s->session, stream) != MAILSMTP_NO_ERROR)
    {
      fail (s, "the greeting", error);
      ms_smtp_close (s, FALSE);
      return NULL;
    }
  if (mailesmtp_ehlo (s->session) != MAILSMTP_NO_ERROR)
    {
      fail (s, "EHLO", error);
      ms_smtp_close (s, FALSE);
      return NULL;
    }
  if (s->net.tls == MS_TLS_STARTTLS)
    {
      int r = mailesmtp_starttls (s->session);
      if (r == MAILSMTP_ERROR_SSL && ms_net_starttls_injected (s->session->stream, error))
        {
          g_prefix_error (error, "smtp %s: ", h->name);
          ms_smtp_close (s, FALSE);
          return NULL;
        }
      if (r != MAILSMTP_NO_ERROR)
        {
          fail (s, "STARTTLS (does the server offer it? tls = implicit?)", error);
          ms_smtp_close (s, FALSE);
          return NULL;
        }
      if (!ms_net_starttls (s->session->stream, &s->net, error)
          || mailesmtp_ehlo (s->session) != MAILSMTP_NO_ERROR)
        {
          if (error && *error == NULL)
            fail (s, "EHLO after STARTTLS", error);
          else
            g_prefix_error (error, "smtp %s: ", h->name);
          ms_smtp_close (s, FALSE);
          return NULL;
        }
    }
  if (h->user && !authenticate (s, error))
    {
      ms_smtp_close (s, FALSE);
      return NULL;
    }
  return s;
}

/* A command whose reply never came: the connection is gone, and what
 * libetpan still holds as "the reply" belongs to an earlier command. */
static gboolean
broken (MsSmtp *s, int r)
{
  return r == MAILSMTP_ERROR_STREAM || (r != MAILSMTP_NO_ERROR && s->session->response_code == 0);
}

static gboolean send_transaction (MsSmtp *s, const char *from, char *const *rcpts,
                                  const char *message, gsize len, int *codes, char **replies,
                                  GError **error);

gboolean
ms_smtp_send (MsSmtp *s, const char *from, char *const *rcpts, const char *message, gsize len,
              int *codes, char **replies, GError **error)
{
  guint n = g_strv_length ((char **) rcpts);

  for (guint i = 0; i < n; i++)
    codes[i] = 0, replies[i] = NULL;
  if (send_transaction (s, from, rcpts, message, len, codes, replies, error))
    return TRUE;
  /* broken off: the replies gathered so far mean nothing */
  for (guint i = 0; i < n; i++)
    g_clear_pointer (&replies[i], g_free);
  return FALSE;
}

static gboolean
send_transaction (MsSmtp *s, const char *from, char *const *rcpts, const char *message, gsize len,
                  int *codes, char **replies, GError **error)
{
  guint n = g_strv_length ((char **) rcpts);
  guint accepted = 0;
  int r;

  /* never let a forged or mangled sender reach the wire: the null sender
   * instead (the message still goes out) */
  if (from && *from && !ms_address_is_valid (from, NULL))
    from = "";
  /* a refusal of the whole transaction applies to every recipient */
  s->session->response_code = 0;
  r = mailsmtp_mail (s->session, from ? from : "");
  if (broken (s, r))
    return fail (s, "MAIL FROM", error);
  if (r != MAILSMTP_NO_ERROR)
    {
      for (guint i = 0; i < n; i++)
        {
          codes[i] = s->session->response_code;
          replies[i] = last_reply (s);
        }
      mailsmtp_reset (s->session);
      return TRUE;
    }
  for (guint i = 0; i < n; i++)
    {
      const char *why = NULL;
      if (!ms_address_is_valid (rcpts[i], &why))
        {
          /* never let a bad address reach the wire (no CR/LF injection) */
          codes[i] = 553;
          replies[i] = g_strdup_printf ("553 not sent: invalid address (%s)", why);
          continue;
        }
      s->session->response_code = 0;
      r = mailsmtp_rcpt (s->session, rcpts[i]);
      if (broken (s, r))
        return fail (s, "RCPT TO", error);
      codes[i] = s->session->response_code;
      replies[i] = last_reply (s);
      accepted += codes[i] >= 200 && codes[i] < 300;
    }
  if (accepted == 0)
    {
      mailsmtp_reset (s->session);
      return TRUE;
    }
  /* libetpan ends the data with CRLF "." CRLF itself, so a message that
   * ends in a line break would gain an empty line: leave ours out */
  if (len > 0 && message[len - 1] == '\n')
    len -= len > 1 && message[len - 2] == '\r' ? 2 : 1;
  s->session->response_code = 0;
  r = mailsmtp_data (s->session);
  if (broken (s, r))
    return fail (s, "DATA", error);
  if (r == MAILSMTP_NO_ERROR)
    {
      s->session->response_code = 0;
      r = mailsmtp_data_message (s->session, message, len);
      if (broken (s, r))
        return fail (s, "DATA (the message)", error);
    }
  if (r == MAILSMTP_NO_ERROR)
    {
      /* the accepted recipients get the answer to the message itself */
      for (guint i = 0; i < n; i++)
        if (codes[i] >= 200 && codes[i] < 300)
          {
            g_free (replies[i]);
            replies[i] = last_reply (s);
          }
    }
  else
    {
      /* DATA refused: the accepted recipients get that answer */
      for (guint i = 0; i < n; i++)
        if (codes[i] >= 200 && codes[i] < 300)
          {
            codes[i] = s->session->response_code;
            g_free (replies[i]);
            replies[i] = last_reply (s);
          }
      mailsmtp_reset (s->session);
    }
  return TRUE;
}
