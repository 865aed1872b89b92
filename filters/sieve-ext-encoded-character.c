/* mailsift Sieve engine - encoded-character (RFC 5228 2.4.2.4): in
 * every string of a script that requires it, ${hex:..} and ${unicode:..}
 * stand for the octets or characters they encode. Done once, when the
 * script is compiled. */
#include "sieve-encoded.h"

#include <string.h>

static gboolean
is_ws (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decode the sequence after "${hex:" or "${unicode:" up to '}'. Returns
 * the position after '}', or NULL when it is not a valid sequence (then
 * the text stays as written). */
static const char *
decode_one (const char *p, const char *end, gboolean unicode, GString *out, gboolean *bad_cp)
{
  GString *tmp = g_string_new (NULL);
  gboolean any = FALSE;

  for (;;)
    {
      guint32 v = 0;
      int digits = 0;
      while (p < end && is_ws (*p))
        p++;
      if (p < end && *p == '}')
        break;
      while (p < end && g_ascii_isxdigit (*p))
        {
          if (digits < 8)
            v = v * 16 + g_ascii_xdigit_value (*p);
          digits++;
          p++;
        }
      if (digits == 0 || (!unicode && digits != 2) || (unicode && digits > 6))
        {
          g_string_free (tmp, TRUE);
          return NULL;
        }
      if (p < end && !is_ws (*p) && *p != '}')
        {
          g_string_free (tmp, TRUE);
          return NULL;
        }
      any = TRUE;
      if (!unicode)
        g_string_append_c (tmp, (char) v);
      else if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        *bad_cp = TRUE;
      else
        g_string_append_unichar (tmp, v);
    }
  if (p >= end || !any)
    {
      g_string_free (tmp, TRUE);
      return NULL; /* "${hex:}" is no encoding: it stays as written */
    }
  g_string_append_len (out, tmp->str, tmp->len);
  g_string_free (tmp, TRUE);
  return p + 1;
}

gboolean
ms_sv_encoded_character_apply (MsSvStr *s)
{
  GString *out;
  const char *end = s->str + s->len;
  gboolean bad = FALSE;

  if (memmem (s->str, s->len, "${", 2) == NULL)
    return TRUE;
  out = g_string_sized_new (s->len);
  for (const char *p = s->str; p < end;)
    {
      if (p[0] == '$' && p + 1 < end && p[1] == '{')
        {
          const char *q = p + 2, *next = NULL;
          while (q < end && is_ws (*q))
            q++;
          if (end - q >= 4 && g_ascii_strncasecmp (q, "hex:", 4) == 0)
            next = decode_one (q + 4, end, FALSE, out, &bad);
          else if (end - q >= 8 && g_ascii_strncasecmp (q, "unicode:", 8) == 0)
            next = decode_one (q + 8, end, TRUE, out, &bad);
          if (next)
            {
              p = next;
              continue;
            }
        }
      g_string_append_c (out, *p++);
    }
  g_free (s->str);
  s->len = out->len;
  s->str = g_string_free (out, FALSE);
  return !bad;
}
