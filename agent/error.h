/* mailsift - error domain shared by every module.
 *
 * Codes are ordered by how much is broken, smallest scope first, so callers
 * can compare: an error >= MS_ERROR_ACCOUNT stops the whole account. */
#pragma once

#include <glib.h>

#define MS_ERROR (ms_error_quark ())

typedef enum {
  MS_ERROR_MESSAGE,   /* this message is bad; others are fine */
  MS_ERROR_FOLDER,    /* a folder cannot be used (bad name, cannot create) */
  MS_ERROR_SCRIPT,    /* a Sieve script does not compile or failed to run */
  MS_ERROR_ACCOUNT,   /* an account cannot be used (auth, TLS, protocol) */
  MS_ERROR_TEMPORARY, /* try again later: I/O error, disk full, server down */
  MS_ERROR_CONFIG,    /* the configuration is wrong; nothing will work until fixed */
} MsErrorCode;

GQuark ms_error_quark (void);

/* sysexits(3) codes, mapped only by the command layer. */
enum {
  MS_EX_OK = 0,
  MS_EX_USAGE = 64,
  MS_EX_DATAERR = 65,
  MS_EX_NOINPUT = 66,
  MS_EX_SOFTWARE = 70,
  MS_EX_CANTCREAT = 73,
  MS_EX_IOERR = 74,
  MS_EX_TEMPFAIL = 75,
  MS_EX_CONFIG = 78,
};

/* Set *error from errno with "what: strerror" text; ENOSPC, EDQUOT and EIO
 * map to MS_ERROR_TEMPORARY, everything else to @code. Returns FALSE. */
gboolean ms_set_errno_error (GError **error, int saved_errno, MsErrorCode code,
                             const char *format, ...) G_GNUC_PRINTF (4, 5);
