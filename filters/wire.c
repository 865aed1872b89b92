/* mailsift - the filter pipe's byte format (see wire.h). */
#include "wire.h"

#include <string.h>

void
ms_wire_put_u32 (GByteArray *out, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);

  g_byte_array_append (out, (const guint8 *) &le, sizeof le);
}

void
ms_wire_put_u64 (GByteArray *out, guint64 v)
{
  guint64 le = GUINT64_TO_LE (v);

  g_byte_array_append (out, (const guint8 *) &le, sizeof le);
}

void
ms_wire_put_bytes (GByteArray *out, const void *data, gsize len)
{
  g_return_if_fail (len < MS_WIRE_NULL);
  ms_wire_put_u32 (out, (guint32) len);
  if (len > 0)
    g_byte_array_append (out, data, (guint) len);
}

void
ms_wire_put_str (GByteArray *out, const char *s, gboolean utf8)
{
  if (s == NULL)
    ms_wire_put_u32 (out, MS_WIRE_NULL);
  else if (!utf8 || g_utf8_validate (s, -1, NULL))
    ms_wire_put_bytes (out, s, strlen (s));
  else
    {
      g_autofree char *valid = g_utf8_make_valid (s, -1);
      ms_wire_put_bytes (out, valid, strlen (valid));
    }
}

void
ms_wire_put_strv (GByteArray *out, char *const *v, gssize n, gboolean utf8)
{
  if (v == NULL && n < 0)
    {
      ms_wire_put_u32 (out, MS_WIRE_NULL);
      return;
    }
  if (n < 0)
    n = (gssize) g_strv_length ((char **) v);
  ms_wire_put_u32 (out, (guint32) n);
  for (gssize i = 0; i < n; i++)
    ms_wire_put_str (out, v[i], utf8);
}

void
ms_wire_reader_init (MsWireReader *r, const guint8 *data, gsize len, gboolean utf8)
{
  r->p = data;
  r->end = data + len;
  r->utf8 = utf8;
  r->bad = FALSE;
}

/* @n bytes from the reader, or NULL (and bad) when they are not there. */
static const guint8 *
take (MsWireReader *r, gsize n)
{
  const guint8 *at = r->p;

  if (r->bad || (gsize) (r->end - r->p) < n)
    {
      r->bad = TRUE;
      return NULL;
    }
  r->p += n;
  return at;
}

guint32
ms_wire_get_u32 (MsWireReader *r)
{
  const guint8 *at = take (r, 4);
  guint32 le;

  if (at == NULL)
    return 0;
  memcpy (&le, at, sizeof le);
  return GUINT32_FROM_LE (le);
}

guint64
ms_wire_get_u64 (MsWireReader *r)
{
  const guint8 *at = take (r, 8);
  guint64 le;

  if (at == NULL)
    return 0;
  memcpy (&le, at, sizeof le);
  return GUINT64_FROM_LE (le);
}

const guint8 *
ms_wire_get_bytes (MsWireReader *r, gsize *len_out)
{
  guint32 len = ms_wire_get_u32 (r);
  const guint8 *at;

  *len_out = 0;
  if (r->bad || len == MS_WIRE_NULL)
    return NULL;
  at = take (r, len);
  if (at != NULL)
    *len_out = len;
  return at;
}

char *
ms_wire_get_str (MsWireReader *r)
{
  gsize len;
  const guint8 *at = ms_wire_get_bytes (r, &len);

  if (at == NULL)
    return NULL; /* NULL, or bad */
  if (memchr (at, '\0', len) != NULL || (r->utf8 && !g_utf8_validate ((const char *) at, (gssize) len, NULL)))
    {
      r->bad = TRUE;
      return NULL;
    }
  return g_strndup ((const char *) at, len);
}

/* A count read as @n: checked against what is left. */
static guint32
check_count (MsWireReader *r, guint32 n, gsize least)
{
  if (!r->bad && n > (gsize) (r->end - r->p) / least)
    r->bad = TRUE;
  return r->bad ? 0 : n;
}

guint32
ms_wire_get_count (MsWireReader *r, gsize least)
{
  return check_count (r, ms_wire_get_u32 (r), least);
}

char **
ms_wire_get_strv (MsWireReader *r)
{
  guint32 n = ms_wire_get_u32 (r);
  g_autoptr (GPtrArray) v = NULL;

  if (r->bad || n == MS_WIRE_NULL)
    return NULL;
  /* each string takes at least its length */
  n = check_count (r, n, 4);
  if (r->bad)
    return NULL;
  v = g_ptr_array_new_full (n + 1, g_free);
  for (guint32 i = 0; i < n; i++)
    {
      char *s = ms_wire_get_str (r);
      if (s == NULL) /* a NULL inside a list, or bad */
        {
          r->bad = TRUE;
          return NULL;
        }
      g_ptr_array_add (v, s);
    }
  g_ptr_array_add (v, NULL);
  g_ptr_array_set_free_func (v, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&v), FALSE);
}

gboolean
ms_wire_reader_done (const MsWireReader *r)
{
  return !r->bad && r->p == r->end;
}
