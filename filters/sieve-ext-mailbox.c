/* mailsift Sieve engine - mailbox (RFC 5490): mailboxexists, and the
 * :create tag of fileinto (mailsift creates missing folders anyway). A
 * folder exists when its Maildir++ directory does under the configured
 * maildir (option "maildir", separator "folder_separator"); INBOX always
 * exists. */
#include "sieve-core.h"

#include <string.h>
#include <sys/stat.h>

static gboolean
folder_exists (MsSvRun *run, const char *name)
{
  const char *root = ms_filter_request_option (run->req, "maildir");
  const char *sep = ms_filter_request_option (run->req, "folder_separator");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  struct stat st;

  if (g_ascii_strcasecmp (name, "INBOX") == 0)
    return TRUE;
  if (root == NULL || *name == '\0' || strstr (name, "..") || (strchr (name, '/') != NULL && g_strcmp0 (sep, "/") != 0))
    return FALSE;
  dir = g_strdup (name);
  if (sep && *sep && strcmp (sep, ".") != 0)
    g_strdelimit (dir, sep, '.');
  path = g_strdup_printf ("%s/.%s/cur", root, dir);
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

static int
test_mailboxexists (MsSvRun *run, const MsSvNode *node)
{
  const char *const *names = ms_sv_expand_list (run, node->pos[0]);

  for (guint i = 0; names[i]; i++)
    if (!folder_exists (run, names[i]))
      return 0;
  return 1;
}

static const MsSvDef def_mailboxexists = { "mailboxexists", MS_SV_TEST, "l", NULL, 0, FALSE, NULL, NULL,
                                           test_mailboxexists };
static const MsSvDef *const defs[] = { &def_mailboxexists, NULL };
const MsSvExtension ms_sv_ext_mailbox = { "mailbox", defs };
