#include "error.h"

#include <errno.h>

G_DEFINE_QUARK (mailsift-error-quark, ms_error)

gboolean
ms_set_errno_error (GError **error, int saved_errno, MsErrorCode code, const char *format, ...)
{
  va_list ap;
  g_autofree char *what = NULL;

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
  g_set_error (error, MS_ERROR, code, "%s: %s", what, g_strerror (saved_errno));
  return FALSE;
}
