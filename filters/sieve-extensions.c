/* mailsift Sieve engine - every extension the engine knows. An extension
 * with no definitions only enables tags or comparators of other
 * commands (e.g. "relational" enables :value and :count). */
#include "sieve-def.h"

#include <string.h>

extern const MsSvExtension ms_sv_ext_fileinto, ms_sv_ext_reject, ms_sv_ext_ereject, ms_sv_ext_envelope,
  ms_sv_ext_imap4flags, ms_sv_ext_variables, ms_sv_ext_vacation, ms_sv_ext_vacation_seconds,
  ms_sv_ext_notify, ms_sv_ext_enotify, ms_sv_ext_date, ms_sv_ext_ihave, ms_sv_ext_environment,
  ms_sv_ext_mailbox, ms_sv_ext_spamtest, ms_sv_ext_spamtestplus, ms_sv_ext_virustest, ms_sv_ext_include,
  ms_sv_ext_body, ms_sv_ext_foreverypart, ms_sv_ext_mime, ms_sv_ext_extracttext,
  ms_sv_ext_editheader, ms_sv_ext_duplicate;

static const MsSvExtension ext_relational = { "relational", NULL };
static const MsSvExtension ext_subaddress = { "subaddress", NULL };
static const MsSvExtension ext_regex = { "regex", NULL };
static const MsSvExtension ext_copy = { "copy", NULL };
static const MsSvExtension ext_index = { "index", NULL };
static const MsSvExtension ext_encoded = { "encoded-character", NULL };
static const MsSvExtension ext_numeric = { "comparator-i;ascii-numeric", NULL };
static const MsSvExtension ext_unicode = { "comparator-i;unicode-casemap", NULL };
static const MsSvExtension ext_octet = { "comparator-i;octet", NULL };
static const MsSvExtension ext_casemap = { "comparator-i;ascii-casemap", NULL };

const MsSvExtension *const ms_sv_extensions[] = {
  &ms_sv_ext_fileinto, &ms_sv_ext_reject, &ms_sv_ext_ereject, &ms_sv_ext_envelope,
  &ms_sv_ext_imap4flags, &ms_sv_ext_variables, &ms_sv_ext_vacation, &ms_sv_ext_vacation_seconds,
  &ms_sv_ext_notify, &ms_sv_ext_enotify, &ms_sv_ext_date, &ms_sv_ext_ihave, &ms_sv_ext_environment,
  &ms_sv_ext_mailbox, &ms_sv_ext_spamtest, &ms_sv_ext_spamtestplus, &ms_sv_ext_virustest, &ms_sv_ext_include,
  &ms_sv_ext_body, &ms_sv_ext_foreverypart, &ms_sv_ext_mime, &ms_sv_ext_extracttext,
  &ms_sv_ext_editheader, &ms_sv_ext_duplicate,
  &ext_relational, &ext_subaddress, &ext_regex, &ext_copy, &ext_index, &ext_encoded,
  &ext_numeric, &ext_unicode, &ext_octet, &ext_casemap,
  NULL,
};

const MsSvExtension *
ms_sv_extension_lookup (const char *name)
{
  for (guint i = 0; ms_sv_extensions[i]; i++)
    if (strcmp (ms_sv_extensions[i]->name, name) == 0)
      return ms_sv_extensions[i];
  return NULL;
}
