#include "sieve-libsieve.h"

#include "address.h"
#include "header.h"
#include "lint.h"

#include <limits.h>
#include <stddef.h> /* sieve2_error.h uses NULL without including it */
#include <string.h>

#include <sieve2.h>

/* sieve2.h takes "char *" for every name and value it only reads. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

/* Everything one execute needs. libsieve borrows every string and array
 * it is handed until the execute returns, so they are kept here. */
typedef struct {
  const MsFilterRequest *req;
  MsFilterResult *result;
  char *script;
  MsHeaderView *view;
  GPtrArray *keepalive; /* g_free'd after execute */
  GPtrArray *arrays;    /* g_strfreev'd after execute */
  gboolean evaluating;  /* the script is parsed; a message callback ran */
} Run;

static char *
keep_str (Run *run, char *s)
{
  g_ptr_array_add (run->keepalive, s);
  return s;
}

static int
cb_getscript (sieve2_context_t *s, void *data)
{
  Run *run = data;

  sieve2_setvalue_string (s, "script", run->script);
  return SIEVE2_OK;
}

static int
cb_getheader (sieve2_context_t *s, void *data)
{
  Run *run = data;
  const char *name = sieve2_getvalue_string (s, "header");
  const char *const *values = name ? ms_header_view_lookup (run->view, name) : NULL;
  /* libsieve writes into the array (vacation), so hand out a fresh copy */
  char **copy = values ? g_strdupv ((char **) values) : g_new0 (char *, 1);

  run->evaluating = TRUE;
  g_ptr_array_add (run->arrays, copy);
  sieve2_setvalue_stringlist (s, "body", copy);
  if (run->req->trace)
    {
      g_autofree char *joined = values ? g_strjoinv ("\" \"", (char **) values) : NULL;
      g_ptr_array_add (run->result->trace,
                       values ? g_strdup_printf ("header %s: \"%s\"", name, joined)
                              : g_strdup_printf ("header %s: (absent)", name));
    }
  return SIEVE2_OK;
}

static int
cb_getenvelope (sieve2_context_t *s, void *data)
{
  Run *run = data;

  run->evaluating = TRUE;
  /* libsieve reads "from" or "to" by the first letter of what the script
   * asked for; set both so nothing is left uninitialised. */
  sieve2_setvalue_string (s, "from", keep_str (run, g_strdup (run->req->envelope_from ? run->req->envelope_from : "")));
  sieve2_setvalue_string (s, "to", keep_str (run, g_strdup (run->req->envelope_to ? run->req->envelope_to : "")));
  return SIEVE2_OK;
}

static int
cb_getsize (sieve2_context_t *s, void *data)
{
  Run *run = data;

  run->evaluating = TRUE;
  sieve2_setvalue_int (s, "size", (int) MIN (run->req->size, (guint64) INT_MAX));
  return SIEVE2_OK;
}

static int
cb_getsubaddress (sieve2_context_t *s, void *data)
{
  Run *run = data;
  const char *addr = sieve2_getvalue_string (s, "address");
  char *localpart = NULL, *domain = NULL, *user = NULL, *detail = NULL;

  run->evaluating = TRUE;
  ms_address_split (addr ? addr : "", run->req->subaddress_separator, &localpart, &domain, &user,
                    &detail);
  sieve2_setvalue_string (s, "localpart", keep_str (run, localpart ? localpart : g_strdup ("")));
  sieve2_setvalue_string (s, "domain", keep_str (run, domain ? domain : g_strdup ("")));
  sieve2_setvalue_string (s, "user", keep_str (run, user ? user : g_strdup ("")));
  if (detail)
    sieve2_setvalue_string (s, "detail", keep_str (run, detail));
  return SIEVE2_OK;
}

static char **
copy_strv (char **in)
{
  return in ? g_strdupv (in) : NULL;
}

static MsAction *
add_action (Run *run, MsActionKind kind, const char *target)
{
  MsAction *a = ms_action_new (kind, target);

  run->evaluating = TRUE;
  g_ptr_array_add (run->result->actions, a);
  if (run->req->trace)
    g_ptr_array_add (run->result->trace, g_strdup_printf ("action %s%s%s",
                     ms_action_kind_to_string (kind), target ? " " : "", target ? target : ""));
  return a;
}

static int
cb_keep (sieve2_context_t *s, void *data)
{
  add_action (data, MS_ACTION_KEEP, NULL)->flags = copy_strv (sieve2_getvalue_stringlist (s, "flags"));
  return SIEVE2_OK;
}

static int
cb_fileinto (sieve2_context_t *s, void *data)
{
  MsAction *a = add_action (data, MS_ACTION_FILEINTO, sieve2_getvalue_string (s, "mailbox"));

  a->flags = copy_strv (sieve2_getvalue_stringlist (s, "flags"));
  return SIEVE2_OK;
}

static int
cb_redirect (sieve2_context_t *s, void *data)
{
  add_action (data, MS_ACTION_REDIRECT, sieve2_getvalue_string (s, "address"));
  return SIEVE2_OK;
}

static int
cb_discard (sieve2_context_t *s, void *data)
{
  add_action (data, MS_ACTION_DISCARD, NULL);
  return SIEVE2_OK;
}

static int
cb_reject (sieve2_context_t *s, void *data)
{
  add_action (data, MS_ACTION_REJECT, sieve2_getvalue_string (s, "message"));
  return SIEVE2_OK;
}

static int
cb_vacation (sieve2_context_t *s, void *data)
{
  Run *run = data;
  MsAction *a = add_action (run, MS_ACTION_VACATION, sieve2_getvalue_string (s, "address"));

  /* libsieve fills in fromaddr and a "Re: " subject (draft-06) when the
   * script gives none; keep only what the script said, so the agent
   * applies RFC 5230's defaults ("Auto: " + subject, your address). */
  if (ms_lint_script_has_tag (run->script, ":from"))
    a->from = g_strdup (sieve2_getvalue_string (s, "fromaddr"));
  if (ms_lint_script_has_tag (run->script, ":subject"))
    a->subject = g_strdup (sieve2_getvalue_string (s, "subject"));
  a->text = g_strdup (sieve2_getvalue_string (s, "message"));
  a->handle = g_strdup (sieve2_getvalue_string (s, "hash"));
  a->days = sieve2_getvalue_int (s, "days");
  a->mime = sieve2_getvalue_int (s, "mime") > 0; /* libsieve passes 307 for :mime */
  return SIEVE2_OK;
}

static int
cb_notify (sieve2_context_t *s, void *data)
{
  MsAction *a = add_action (data, MS_ACTION_NOTIFY, sieve2_getvalue_string (s, "method"));

  a->priority = g_strdup (sieve2_getvalue_string (s, "priority"));
  a->text = g_strdup (sieve2_getvalue_string (s, "message"));
  a->options = copy_strv (sieve2_getvalue_stringlist (s, "options"));
  return SIEVE2_OK;
}

static int
cb_err_parse (sieve2_context_t *s, void *data)
{
  Run *run = data;
  const char *msg = sieve2_getvalue_string (s, "message");

  g_ptr_array_add (run->result->errors, g_strdup_printf ("%d: %s", sieve2_getvalue_int (s, "lineno"),
                                                         msg ? msg : "syntax error"));
  return SIEVE2_OK;
}

static int
cb_err_address (sieve2_context_t *s, void *data)
{
  Run *run = data;
  const char *msg = sieve2_getvalue_string (s, "message");

  /* Before evaluation starts (libsieve parses the whole script first)
   * this is a bad redirect address in the script: an error, or libsieve
   * would silently drop the redirect. Once the message is being looked
   * at, it is a malformed address in the message, which only makes that
   * test false. */
  if (!run->evaluating)
    g_ptr_array_add (run->result->errors, g_strdup_printf ("invalid address: %s", msg ? msg : "?"));
  else if (run->req->trace)
    g_ptr_array_add (run->result->trace, g_strdup_printf ("address not parsed: %s", msg ? msg : "?"));
  return SIEVE2_OK;
}

static int
cb_err_header (sieve2_context_t *s, void *data)
{
  Run *run = data;

  if (run->req->trace)
    g_ptr_array_add (run->result->trace, g_strdup_printf ("header not parsed: %s",
                     sieve2_getvalue_string (s, "message")));
  return SIEVE2_OK;
}

static int
cb_trace (sieve2_context_t *s, void *data)
{
  Run *run = data;
  const char *msg = sieve2_getvalue_string (s, "message");

  /* Only the comparisons are worth showing; the rest is parser chatter. */
  if (msg && (g_str_has_prefix (msg, "test ") || strstr (msg, " comparing ")))
    g_ptr_array_add (run->result->trace, g_strdup (msg));
  return SIEVE2_OK;
}

static void
run_in_context (Run *run, sieve2_callback_t *callbacks)
{
  const MsFilterRequest *req = run->req;
  sieve2_context_t *ctx = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  int rc;

  if (!g_file_get_contents (req->script_path, &run->script, &len, &error))
    {
      g_ptr_array_add (run->result->errors, g_strdup_printf ("cannot read script: %s", error->message));
      return;
    }
  if (memchr (run->script, '\0', len) != NULL)
    {
      g_ptr_array_add (run->result->errors, g_strdup ("the script contains a NUL byte"));
      return;
    }
  if (req->mode == MS_FILTER_EXECUTE)
    {
      gsize hlen = 0;
      const char *h = req->header ? g_bytes_get_data (req->header, &hlen) : "";
      run->view = ms_header_view_new (h, hlen);
    }
  if (sieve2_alloc (&ctx) != SIEVE2_OK)
    {
      g_ptr_array_add (run->result->errors, g_strdup ("libsieve could not allocate a context"));
      return;
    }
  rc = sieve2_callbacks (ctx, callbacks);
  if (rc == SIEVE2_OK)
    rc = req->mode == MS_FILTER_VALIDATE ? sieve2_validate (ctx, run) : sieve2_execute (ctx, run);
  if (rc != SIEVE2_OK)
    g_ptr_array_add (run->result->errors, g_strdup_printf ("libsieve: %s", sieve2_errstr (rc)));
  sieve2_free (&ctx);
}

MsFilterResult *
ms_libsieve_run (const MsFilterRequest *req)
{
  /* Never list a deprecated value: sieve2_callbacks stops registering at
   * the first one it does not accept. Never GETALLHEADERS. */
  sieve2_callback_t callbacks[] = {
    { SIEVE2_SCRIPT_GETSCRIPT, cb_getscript },
    { SIEVE2_MESSAGE_GETHEADER, cb_getheader },
    { SIEVE2_MESSAGE_GETENVELOPE, cb_getenvelope },
    { SIEVE2_MESSAGE_GETSIZE, cb_getsize },
    { SIEVE2_MESSAGE_GETSUBADDRESS, cb_getsubaddress },
    { SIEVE2_ACTION_KEEP, cb_keep },
    { SIEVE2_ACTION_FILEINTO, cb_fileinto },
    { SIEVE2_ACTION_REDIRECT, cb_redirect },
    { SIEVE2_ACTION_DISCARD, cb_discard },
    { SIEVE2_ACTION_REJECT, cb_reject },
    { SIEVE2_ACTION_VACATION, cb_vacation },
    { SIEVE2_ACTION_NOTIFY, cb_notify },
    { SIEVE2_ERRCALL_PARSE, cb_err_parse },
    { SIEVE2_ERRCALL_ADDRESS, cb_err_address },
    { SIEVE2_ERRCALL_HEADER, cb_err_header },
    { SIEVE2_DEBUG_TRACE, cb_trace }, /* dropped below unless tracing */
    { 0, NULL },
  };
  Run run = { 0 };

  if (!req->trace)
    callbacks[G_N_ELEMENTS (callbacks) - 2] = (sieve2_callback_t) { 0, NULL };
  run.req = req;
  run.result = ms_filter_result_new ();
  run.keepalive = g_ptr_array_new_with_free_func (g_free);
  run.arrays = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

  run_in_context (&run, callbacks);

  g_clear_pointer (&run.view, ms_header_view_free);
  g_ptr_array_unref (run.keepalive);
  g_ptr_array_unref (run.arrays);
  g_free (run.script);
  return run.result;
}
