/* mailsift message model - IMAP modified UTF-7 (see utf7.h) for folder
 * names on the server and in Maildir++. */
#include "utf7.h"

#include <gio/gio.h>

/* Modified base64 (RFC 3501 5.1.3): ',' replaces '/', no '=' padding. */
static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == ',')
    return 63;
  return -1;
}

/* Bits waiting to become base64 digits: fewer than 6 between calls. */
typedef struct
{
  guint32 bits;
  guint n;
} BitBuffer;

static void
push_unit (GString *out, BitBuffer *b, guint16 unit)
{
  b->bits = (b->bits << 16) | unit;
  b->n += 16;
  while (b->n >= 6)
    {
      b->n -= 6;
      g_string_append_c (out, b64_alphabet[(b->bits >> b->n) & 0x3f]);
    }
  b->bits &= (1u << b->n) - 1;
}

/* End a shifted run: the last bits padded with zeros, then '-'. */
static void
close_shift (GString *out, BitBuffer *b)
{
  if (b->n > 0)
    g_string_append_c (out, b64_alphabet[(b->bits << (6 - b->n)) & 0x3f]);
  b->bits = 0;
  b->n = 0;
  g_string_append_c (out, '-');
}

/* Encode a UTF-8 folder name to modified UTF-7: see utf7.h. */
char *
ms_utf7_imap_encode (const char *utf8)
{
  GString *out;
  BitBuffer b = { 0 };
  gboolean shifted = FALSE;

  g_return_val_if_fail (utf8 != NULL, NULL);
  /* g_utf8_validate() also refuses surrogate code points, which UTF-16
   * could not carry */
  if (!g_utf8_validate (utf8, -1, NULL))
    return NULL;

  out = g_string_new (NULL);
  for (const char *p = utf8; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= 0x20 && c <= 0x7e)
        {
          if (shifted)
            close_shift (out, &b);
          shifted = FALSE;
          if (c == '&')
            g_string_append (out, "&-");
          else
            g_string_append_c (out, (char) c);
          continue;
        }
      if (!shifted)
        g_string_append_c (out, '&');
      shifted = TRUE;
      if (c >= 0x10000)
        {
          push_unit (out, &b, (guint16) (0xD800 + ((c - 0x10000) >> 10)));
          push_unit (out, &b, (guint16) (0xDC00 + ((c - 0x10000) & 0x3ff)));
        }
      else
        push_unit (out, &b, (guint16) c);
    }
  if (shifted)
    close_shift (out, &b);
  return g_string_free (out, FALSE);
}

static gboolean
fail (GError **error, const char *input, const char *at, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "malformed modified UTF-7 at byte %" G_GSIZE_FORMAT ": %s", (gsize) (at - input), what);
  return FALSE;
}

/* Decode the base64 run that starts after the '&' at *@pp, up to and
 * including its '-'; *@pp is left after it. Everything RFC 3501 says an
 * encoder must not produce is refused, so that each folder name has one
 * spelling on disk and two names cannot collide after decoding. */
static gboolean
decode_shift (GString *out, const char *input, const char **pp, GError **error)
{
  const char *p = *pp + 1;
  BitBuffer b = { 0 };
  gunichar high = 0; /* a high surrogate waiting for its low half */

  for (; *p != '-'; p++)
    {
      int v = b64_value (*p);
      guint16 unit;

      if (*p == '\0')
        return fail (error, input, *pp, "'&' without a closing '-'");
      if (v < 0)
        return fail (error, input, p, "not a modified base64 character");
      b.bits = (b.bits << 6) | (guint32) v;
      b.n += 6;
      if (b.n < 16)
        continue;
      b.n -= 16;
      unit = (guint16) (b.bits >> b.n);
      b.bits &= (1u << b.n) - 1;

      if (high != 0)
        {
          if (unit < 0xDC00 || unit > 0xDFFF)
            return fail (error, input, p, "a high surrogate without its low half");
          g_string_append_unichar (out, 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00));
          high = 0;
        }
      else if (unit >= 0xD800 && unit <= 0xDBFF)
        high = unit;
      else if (unit >= 0xDC00 && unit <= 0xDFFF)
        return fail (error, input, p, "a low surrogate without its high half");
      else if (unit >= 0x20 && unit <= 0x7e)
        return fail (error, input, p, "printable ASCII encoded in base64");
      else if (unit == 0)
        return fail (error, input, p, "an encoded NUL");
      else
        g_string_append_unichar (out, unit);
    }
  if (high != 0)
    return fail (error, input, p, "a high surrogate without its low half");
  /* what is left must be padding: fewer than 6 bits, all zero */
  if (b.n >= 6 || b.bits != 0)
    return fail (error, input, p, "base64 run does not end on a UTF-16 unit");
  *pp = p + 1;
  return TRUE;
}

/* Decode a modified UTF-7 folder name to UTF-8: see utf7.h. Errors are
 * G_IO_ERROR_INVALID_DATA. */
char *
ms_utf7_imap_decode (const char *mutf7, GError **error)
{
  g_autoptr (GString) out = NULL;
  const char *p = mutf7;
  const char *shift_end = NULL; /* just after the last base64 run's '-' */

  g_return_val_if_fail (mutf7 != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  out = g_string_new (NULL);
  while (*p)
    {
      if ((guchar) *p < 0x20 || (guchar) *p > 0x7e)
        {
          fail (error, mutf7, p, "not printable ASCII");
          return NULL;
        }
      if (*p != '&')
        g_string_append_c (out, *p++);
      else if (p[1] == '-')
        {
          g_string_append_c (out, '&');
          p += 2;
        }
      else
        {
          /* an encoder writes one run, so "&AOk-&AOk-" would be a second
           * spelling of "&AOkA6Q-" */
          if (p == shift_end)
            {
              fail (error, mutf7, p, "two base64 runs in a row");
              return NULL;
            }
          if (!decode_shift (out, mutf7, &p, error))
            return NULL;
          shift_end = p;
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
