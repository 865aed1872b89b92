#include "error.h"

#include <errno.h>

G_DEFINE_QUARK (mailsift-error-quark, ms_error)

gboolean
ms_set_errno_error (GError **error, int saved_errno, MsErrorCode code, const char *format, ...)
{
  va_list ap;
  g_autofree char *what = NULL;
  const char *advice = "";

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);

  switch (saved_errno)
    {
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EAGAIN:
    case EINTR:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      code = MS_ERROR_TEMPORARY;
      break;
    default:
      break;
    }
  /* what a person can do about the ones that need a person */
  switch (saved_errno)
    {
    case ENOSPC:
      advice = "; free some space on that disk";
      break;
    case EDQUOT:
      advice = "; free some space, or ask for a larger disk quota";
      break;
    case EROFS:
      advice = "; that file system is mounted read-only";
      break;
    default:
      break;
    }
  g_set_error (error, MS_ERROR, code, "%s: %s%s", what, g_strerror (saved_errno), advice);
  return FALSE;
}
