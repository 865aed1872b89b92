/* mailsift Sieve engine - encoded-character (RFC 5228 2.4.2.4). */
#pragma once

#include "sieve-ast.h"

/* Replace ${hex:...} and ${unicode:...} in @s, in place. FALSE when a
 * ${unicode:} names a code point that does not exist (above U+10FFFF or
 * a surrogate): an error in the script. */
gboolean ms_sv_encoded_character_apply (MsSvStr *s);
