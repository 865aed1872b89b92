/* mailsift - the byte format of what goes through the filter pipe: the
 * requests the agent sends and the results the filter process sends
 * back (engine.c frames them; action.c and engine.c encode them).
 *
 * Numbers are little-endian, 4 or 8 bytes. A string or a byte string is
 * its length (4 bytes) and its bytes, without a NUL; the length
 * 0xffffffff stands for NULL. A string list is its count (0xffffffff
 * for NULL) and the strings. Both ends are this program, but the agent
 * reads what a process that has filtered hostile mail wrote: every read
 * is bounds-checked, and a reader that ran past the end, or found a NUL
 * in a string, is marked bad and returns zeros and NULLs from then on. */
#pragma once

#include <glib.h>

#define MS_WIRE_NULL 0xffffffffu

void ms_wire_put_u32 (GByteArray *out, guint32 v);
void ms_wire_put_u64 (GByteArray *out, guint64 v);
void ms_wire_put_bytes (GByteArray *out, const void *data, gsize len);
/* @s may be NULL. With @utf8, text that is not valid UTF-8 is sent with
 * U+FFFD in place of the bad bytes. */
void ms_wire_put_str (GByteArray *out, const char *s, gboolean utf8);
/* @n strings of @v, or up to its NULL when @n < 0; @v may be NULL. */
void ms_wire_put_strv (GByteArray *out, char *const *v, gssize n, gboolean utf8);

typedef struct {
  const guint8 *p;
  const guint8 *end;
  gboolean utf8; /* strings must be valid UTF-8 */
  gboolean bad;
} MsWireReader;

void ms_wire_reader_init (MsWireReader *r, const guint8 *data, gsize len, gboolean utf8);
guint32 ms_wire_get_u32 (MsWireReader *r);
guint64 ms_wire_get_u64 (MsWireReader *r);
/* Points into the reader's data: valid as long as it is. NULL for a
 * NULL byte string or when bad. */
const guint8 *ms_wire_get_bytes (MsWireReader *r, gsize *len_out);
/* Transfer full; NULL for NULL or when bad. */
char *ms_wire_get_str (MsWireReader *r);
/* A count of items that take at least @least bytes each; a count more
 * than the bytes left can hold is malformed (bad, 0), not a reason to
 * allocate. */
guint32 ms_wire_get_count (MsWireReader *r, gsize least);
/* Transfer full; NULL for NULL or when bad. */
char **ms_wire_get_strv (MsWireReader *r);
/* Whether everything read was there and well-formed, and nothing is
 * left over. */
gboolean ms_wire_reader_done (const MsWireReader *r);
