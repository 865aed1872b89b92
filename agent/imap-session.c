/* mailsift - one IMAP session (see imap-session.h). */
#include "imap-session.h"

#include "error.h"

#include <string.h>

gboolean
ms_imap_fail (MsImapSession *im, int r, const char *what, GError **error)
{
  const char *reply = im->imap && im->imap->imap_response ? im->imap->imap_response : "";
  const GError *cause = im->imap ? ms_net_stream_error (im->imap->imap_stream) : NULL;

  /* a dropped connection (a bound hit, a timeout) says why itself */
  if (cause)
    g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s failed: %s",
                 im->account->name, what, cause->message);
  else
    g_set_error (error, MS_ERROR, MS_ERROR_TEMPORARY, "account %s: %s failed (libetpan error %d)%s%s",
                 im->account->name, what, r, *reply ? ": " : "", reply);
  return FALSE;
}

/* Whether the server's greeting is "* BYE ..." (it will not serve us).
 * libetpan 1.9.4's mailimap_connect() leaks the parsed greeting then (48
 * bytes a connection, for as long as `mailsift run` keeps trying), so
 * it is not called for one: the first bytes are looked at in libetpan's
 * buffer, where mailimap_connect() will read them. A greeting that comes
 * in pieces is read on until it is 6 bytes or no longer looks like
 * "* BYE" (fuzz-imap sent "* BYE" alone first). */
static gboolean
greeting_is_bye (mailstream *stream)
{
  static const char bye[] = "* BYE";

  if (stream->read_buffer_len == 0 && mailstream_feed_read_buffer (stream) <= 0)
    return FALSE; /* mailimap_connect reports it */
  while (stream->read_buffer_len < 6
         && g_ascii_strncasecmp (stream->read_buffer, bye, MIN (stream->read_buffer_len, 5)) == 0)
    {
      ssize_t n = mailstream_low_read (stream->low, stream->read_buffer + stream->read_buffer_len,
                                       stream->buffer_max_size - stream->read_buffer_len);
      if (n <= 0)
        return FALSE; /* mailimap_connect reports it */
      stream->read_buffer_len += (size_t) n;
    }
  /* "* BYE" and anything that ends the word: libetpan takes a NUL or a
   * line end there for a BYE too */
  return stream->read_buffer_len >= 6 && g_ascii_strncasecmp (stream->read_buffer, bye, 5) == 0
         && !g_ascii_isalnum (stream->read_buffer[5]);
}

/* CAPABILITY: what the server offers, kept in imap_connection_info.
 * libetpan 1.9.4's mailimap_capability() copies that after a tagged OK
 * without looking: a server that answers OK without an untagged
 * CAPABILITY response (where there was none before) made it dereference
 * NULL and killed the account process. With an empty list in place
 * first, such an answer means what it says: no extensions. An untagged
 * CAPABILITY replaces the list (libetpan frees the old one). */
static void
ask_capability (MsImapSession *im)
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

gboolean
ms_imap_session_open (MsImapSession *im, const MsAccount *a, GError **error)
{
  g_autofree char *secret = NULL;
  gboolean oauth2 = a->password_command == NULL;
  mailstream *stream;
  int r;

  im->account = a;
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
    return ms_imap_fail (im, r, "the greeting", error);
  if (im->net.tls == MS_TLS_STARTTLS)
    {
      r = mailimap_starttls (im->imap);
      if (r == MAILIMAP_ERROR_STARTTLS && ms_net_starttls_injected (im->imap->imap_stream, error))
        {
          g_prefix_error (error, "account %s: ", a->name);
          return FALSE;
        }
      if (r != MAILIMAP_NO_ERROR)
        return ms_imap_fail (im, r, "STARTTLS (does the server offer it? tls = implicit?)", error);
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
  /* a connection the network layer dropped (a bound, a line libetpan
   * must not see, a timeout) is not a refused login */
  if (r != MAILIMAP_NO_ERROR && ms_net_stream_error (im->imap->imap_stream) != NULL)
    return ms_imap_fail (im, r, oauth2 ? "AUTHENTICATE XOAUTH2" : "LOGIN", error);
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

gboolean
ms_imap_has (MsImapSession *im, const char *extension)
{
  const struct mailimap_connection_info *info = im->imap ? im->imap->imap_connection_info : NULL;

  if (info == NULL || info->imap_capability == NULL || info->imap_capability->cap_list == NULL)
    return FALSE;
  for (clistiter *i = clist_begin (info->imap_capability->cap_list); i; i = clist_next (i))
    {
      const struct mailimap_capability *cap = clist_content (i);
      if (cap != NULL && cap->cap_type == MAILIMAP_CAPABILITY_NAME && cap->cap_data.cap_name != NULL
          && g_ascii_strcasecmp (cap->cap_data.cap_name, extension) == 0)
        return TRUE;
    }
  return FALSE;
}

/* LOGOUT after a good session; after a failure close without it (it
 * would wait for an answer from a server that may be gone). */
void
ms_imap_session_close (MsImapSession *im, gboolean logout)
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
