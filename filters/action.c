#include "action.h"

#include "wire.h"

#include "address.h"
#include "header.h"
#include "rfc2047.h"

#include <string.h>

MsAction *
ms_action_new (MsActionKind kind, const char *target)
{
  MsAction *a = g_new0 (MsAction, 1);

  a->kind = kind;
  a->target = g_strdup (target);
  return a;
}

void
ms_action_free (MsAction *a)
{
  if (a == NULL)
    return;
  g_free (a->target);
  g_strfreev (a->flags);
  g_free (a->from);
  g_free (a->subject);
  g_free (a->text);
  g_free (a->handle);
  g_free (a->priority);
  g_strfreev (a->options);
  g_strfreev (a->addresses);
  g_free (a);
}

static void
append_quoted (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const char *p = s ? s : ""; *p; p++)
    switch (*p)
      {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if ((guchar) *p < 0x20 || *p == 0x7f)
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
        else
          g_string_append_c (out, *p);
      }
  g_string_append_c (out, '"');
}

static int
flag_cmp (gconstpointer a, gconstpointer b)
{
  return g_ascii_strcasecmp (*(const char *const *) a, *(const char *const *) b);
}

/* ---------------------------------------------------------------- kinds */

static void
format_target (GString *out, const MsAction *a)
{
  g_string_append_c (out, ' ');
  append_quoted (out, a->target);
}

static void
format_vacation (GString *out, const MsAction *a)
{
  g_string_append (out, " to=");
  append_quoted (out, a->target);
  g_string_append (out, " subject=");
  append_quoted (out, a->subject);
  g_string_append_printf (out, " days=%d", a->days);
  if (a->from)
    {
      g_string_append (out, " from=");
      append_quoted (out, a->from);
    }
  if (a->handle)
    {
      g_string_append (out, " handle=");
      append_quoted (out, a->handle);
    }
  if (a->mime)
    g_string_append (out, " mime");
}

static void
format_notify (GString *out, const MsAction *a)
{
  g_string_append (out, " method=");
  append_quoted (out, a->target);
  if (a->priority)
    g_string_append_printf (out, " priority=%s", a->priority);
  if (a->text)
    {
      g_string_append (out, " message=");
      append_quoted (out, a->text);
    }
}

static gboolean
same_mailbox (const MsAction *a, const MsAction *b)
{
  return strcmp (a->target, b->target) == 0;
}

static gboolean
same_address (const MsAction *a, const MsAction *b)
{
  return ms_address_equal (a->target, b->target);
}

static gboolean
same_method_and_message (const MsAction *a, const MsAction *b)
{
  return g_strcmp0 (a->target, b->target) == 0 && g_strcmp0 (a->text, b->text) == 0;
}

#define FIELD(name, member, list, address) { name, G_STRUCT_OFFSET (MsAction, member), list, address }

static const MsActionField vacation_fields[] = {
  FIELD (":from", from, FALSE, TRUE),
  FIELD (":subject", subject, FALSE, FALSE),
  FIELD (":handle", handle, FALSE, FALSE),
  FIELD (":addresses", addresses, TRUE, TRUE),
  { NULL },
};

static const MsActionField notify_fields[] = {
  FIELD (":from", from, FALSE, TRUE),
  FIELD ("method", target, FALSE, TRUE),
  { NULL },
};

#undef FIELD

/* The action table: what each kind does (see MsActionInfo). */
static const MsActionInfo kinds[] = {
  [MS_ACTION_KEEP] = {
    .name = "keep",
    .files = TRUE,
    .disposes = TRUE,
    .cancels_implicit_keep = TRUE,
    .excludes_reject = TRUE,
  },
  [MS_ACTION_FILEINTO] = {
    .name = "fileinto",
    .files = TRUE,
    .named_folder = TRUE,
    .disposes = TRUE,
    .cancels_implicit_keep = TRUE,
    .excludes_reject = TRUE,
    .format = format_target,
    .same = same_mailbox,
  },
  [MS_ACTION_REDIRECT] = {
    .name = "redirect",
    .sends = TRUE,
    .disposes = TRUE,
    .cancels_implicit_keep = TRUE,
    .excludes_reject = TRUE,
    .format = format_target,
    .same = same_address,
  },
  [MS_ACTION_DISCARD] = {
    .name = "discard",
    .cancels_implicit_keep = TRUE,
  },
  [MS_ACTION_REJECT] = {
    .name = "reject",
    .sends = TRUE,
    .disposes = TRUE,
    .cancels_implicit_keep = TRUE,
    .format = format_target,
  },
  [MS_ACTION_VACATION] = {
    .name = "vacation",
    .sends = TRUE,
    .excludes_reject = TRUE,
    .format = format_vacation,
    /* no .same: one vacation response per message */
    .header_fields = vacation_fields,
  },
  [MS_ACTION_NOTIFY] = {
    .name = "notify",
    .sends = TRUE,
    .format = format_notify,
    .same = same_method_and_message,
    .header_fields = notify_fields,
  },
};

G_STATIC_ASSERT (G_N_ELEMENTS (kinds) == MS_ACTION_N_KINDS);

const MsActionInfo *
ms_action_info (MsActionKind kind)
{
  static const MsActionInfo unknown = { .name = "?" };

  g_return_val_if_fail ((guint) kind < MS_ACTION_N_KINDS, &unknown);
  return &kinds[kind];
}

const char *
ms_action_kind_to_string (MsActionKind kind)
{
  return ms_action_info (kind)->name;
}

const char *
ms_action_folder (const MsAction *a)
{
  const MsActionInfo *info = ms_action_info (a->kind);

  if (!info->files)
    return NULL;
  return info->named_folder ? a->target : "INBOX";
}

char *
ms_action_format (const MsAction *a)
{
  const MsActionInfo *info = ms_action_info (a->kind);
  GString *out = g_string_new (info->name);

  if (info->format)
    info->format (out, a);
  if (a->flags && a->flags[0])
    {
      g_autofree char **sorted = g_memdup2 (a->flags, sizeof (char *) * (g_strv_length (a->flags) + 1));
      g_autofree char *joined = NULL;
      qsort (sorted, g_strv_length (sorted), sizeof (char *), flag_cmp);
      joined = g_strjoinv (",", sorted);
      g_string_append_printf (out, " flags=%s", joined);
    }
  return g_string_free (out, FALSE);
}

static void
duplicate_mark_free (MsDuplicateMark *m)
{
  g_free (m->hash);
  g_free (m);
}

void
ms_filter_result_add_duplicate (MsFilterResult *r, const char *hash, gboolean seen)
{
  MsDuplicateMark *m;

  for (guint i = 0; i < r->duplicates->len; i++)
    {
      m = r->duplicates->pdata[i];
      if (strcmp (m->hash, hash) == 0)
        {
          m->seen &= seen;
          return;
        }
    }
  m = g_new0 (MsDuplicateMark, 1);
  m->hash = g_strdup (hash);
  m->seen = seen;
  g_ptr_array_add (r->duplicates, m);
}

char *
ms_header_edit_format (const MsHeaderEdit *e)
{
  GString *out = g_string_new (e->kind == MS_HEADER_EDIT_ADD ? "addheader " : "deleteheader ");
  g_autofree char *field = NULL;

  if (e->kind == MS_HEADER_EDIT_ADD)
    {
      /* unfolded and decoded, as a header test sees it */
      g_auto (GStrv) lines = g_strsplit (e->value, "\n", -1);
      g_autofree char *unfolded = g_strjoinv ("", lines);
      g_autofree char *decoded = ms_rfc2047_decode (unfolded);
      if (e->last)
        g_string_append (out, ":last ");
      field = g_strdup_printf ("%s: %s", e->name, decoded);
    }
  else
    field = g_strdup_printf ("%s: %s", e->name, e->value);
  append_quoted (out, field);
  return g_string_free (out, FALSE);
}

char **
ms_filter_result_format (const MsFilterResult *r)
{
  GPtrArray *lines = g_ptr_array_new ();
  guint shown = 0;

  for (guint i = 0; i < r->actions->len; i++)
    {
      const MsAction *a = r->actions->pdata[i];
      for (; shown < a->edits && shown < r->edits->len; shown++)
        g_ptr_array_add (lines, ms_header_edit_format (r->edits->pdata[shown]));
      g_ptr_array_add (lines, ms_action_format (a));
    }
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (lines, FALSE);
}

MsFilterResult *
ms_filter_result_new (void)
{
  MsFilterResult *r = g_new0 (MsFilterResult, 1);

  r->actions = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_action_free);
  r->errors = g_ptr_array_new_with_free_func (g_free);
  r->warnings = g_ptr_array_new_with_free_func (g_free);
  r->trace = g_ptr_array_new_with_free_func (g_free);
  r->edits = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_header_edit_free);
  r->duplicates = g_ptr_array_new_with_free_func ((GDestroyNotify) duplicate_mark_free);
  return r;
}

void
ms_filter_result_free (MsFilterResult *r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->actions);
  g_ptr_array_unref (r->errors);
  g_ptr_array_unref (r->warnings);
  g_ptr_array_unref (r->trace);
  g_ptr_array_unref (r->edits);
  g_ptr_array_unref (r->duplicates);
  g_free (r->failure);
  g_free (r);
}

void
ms_filter_result_fail (MsFilterResult *r, const char *reason)
{
  r->failed = TRUE;
  if (r->failure == NULL)
    r->failure = g_strdup (reason);
}

char *
ms_sieve_unescape (const char *s)
{
  GString *out;

  if (s == NULL)
    return NULL;
  out = g_string_sized_new (strlen (s));
  for (const char *p = s; *p; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        p++;
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* imap4flags: each string may hold several space-separated flags; system
 * flags get their canonical spelling; duplicates go (case-insensitively). */
static void
unescape_in_place (char **s)
{
  char *plain = ms_sieve_unescape (*s);

  g_free (*s);
  *s = plain;
}

static char **
normalise_flags (char **in, gboolean unescape)
{
  static const char *const system_flags[] = { "\\Seen", "\\Answered", "\\Flagged",
                                              "\\Deleted", "\\Draft", NULL };
  GPtrArray *out;

  if (in == NULL)
    return NULL;
  out = g_ptr_array_new ();
  for (guint i = 0; in[i]; i++)
    {
      g_autofree char *plain = unescape ? ms_sieve_unescape (in[i]) : g_strdup (in[i]);
      g_auto (GStrv) words = g_strsplit_set (plain, " \t", -1);
      for (guint w = 0; words[w]; w++)
        {
          const char *flag = words[w];
          gboolean dup = FALSE;
          if (*flag == '\0')
            continue;
          for (guint s = 0; system_flags[s]; s++)
            if (g_ascii_strcasecmp (flag, system_flags[s]) == 0)
              flag = system_flags[s];
          for (guint k = 0; k < out->len && !dup; k++)
            dup = g_ascii_strcasecmp (out->pdata[k], flag) == 0;
          if (!dup)
            g_ptr_array_add (out, g_strdup (flag));
        }
    }
  if (out->len == 0)
    {
      g_ptr_array_free (out, TRUE);
      return NULL;
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

static void
merge_flags (MsAction *into, char **more)
{
  GPtrArray *all = g_ptr_array_new ();
  char **merged;

  for (guint i = 0; into->flags && into->flags[i]; i++)
    g_ptr_array_add (all, into->flags[i]);
  for (guint i = 0; more && more[i]; i++)
    g_ptr_array_add (all, more[i]);
  g_ptr_array_add (all, NULL);
  merged = normalise_flags ((char **) all->pdata, FALSE);
  g_ptr_array_free (all, TRUE);
  g_strfreev (into->flags);
  into->flags = merged;
}

const char *
ms_action_field_problem (const char *value, gsize len, gboolean address)
{
  for (gsize i = 0; value && i < len; i++)
    {
      guchar c = (guchar) value[i];
      if (c == '\r' || c == '\n')
        return "it contains a line break (CR or LF)";
      if (c == '\0')
        return "it contains a NUL byte";
      if ((c < 0x20 && (address || c != '\t')) || c == 0x7f)
        return "it contains a control character";
    }
  return NULL;
}

const char *
ms_action_unsafe_field (const MsAction *a, const char **field_out, const char **value_out)
{
  for (const MsActionField *f = ms_action_info (a->kind)->header_fields; f && f->name; f++)
    {
      char *const one[] = { G_STRUCT_MEMBER (char *, a, f->offset), NULL };
      char *const *values = f->list ? G_STRUCT_MEMBER (char **, a, f->offset) : one;

      for (guint i = 0; values && values[i]; i++)
        {
          const char *why = ms_action_field_problem (values[i], strlen (values[i]), f->address);
          if (why)
            {
              *field_out = f->name;
              *value_out = values[i];
              return why;
            }
        }
    }
  return NULL;
}

static gboolean
same_target (const MsAction *a, const MsAction *b)
{
  const MsActionInfo *info = ms_action_info (a->kind);

  if (a->kind != b->kind)
    return FALSE;
  return info->same == NULL || info->same (a, b);
}

static void
keep_implicitly (MsFilterResult *r)
{
  MsAction *keep = ms_action_new (MS_ACTION_KEEP, NULL);

  keep->implicit = TRUE;
  g_ptr_array_add (r->actions, keep);
}

void
ms_filter_result_finish (MsFilterResult *r)
{
  g_autoptr (GPtrArray) kept = NULL;
  gboolean excludes_reject = FALSE, rejects = FALSE, disposes = FALSE, cancels_implicit_keep = FALSE;

  if (r->errors->len > 0 && !r->failed)
    ms_filter_result_fail (r, r->errors->pdata[0]);

  for (guint i = 0; i < r->actions->len && !r->failed; i++)
    {
      MsAction *a = r->actions->pdata[i];
      const char *why = NULL;
      const char *field = NULL, *value = NULL;

      /* libsieve hands strings over as written in the script */
      if (!r->complete)
        {
          unescape_in_place (&a->target);
          unescape_in_place (&a->from);
          unescape_in_place (&a->subject);
          unescape_in_place (&a->text);
          unescape_in_place (&a->handle);
        }
      if (a->flags)
        {
          char **norm = normalise_flags (a->flags, !r->complete);
          g_strfreev (a->flags);
          a->flags = norm;
        }
      if (a->kind == MS_ACTION_FILEINTO && g_ascii_strcasecmp (a->target, "INBOX") == 0)
        {
          a->kind = MS_ACTION_KEEP;
          g_clear_pointer (&a->target, g_free);
        }
      if (a->kind == MS_ACTION_REDIRECT && !ms_address_is_valid (a->target, &why))
        {
          g_autofree char *msg = g_strdup_printf ("redirect to an invalid address \"%s\": %s",
                                                  a->target, why);
          g_ptr_array_add (r->errors, g_strdup (msg));
          ms_filter_result_fail (r, msg);
        }
      if ((why = ms_action_unsafe_field (a, &field, &value)) != NULL)
        {
          /* both engines end here: libsieve passes such strings on as
           * they are, and mailsift's engine refuses them itself */
          g_autofree char *shown = g_strescape (value, NULL);
          g_autofree char *msg = g_strdup_printf ("%s %s \"%s\" refused: %s; it must be one line of text",
                                                  ms_action_kind_to_string (a->kind), field, shown, why);
          g_ptr_array_add (r->errors, g_strdup (msg));
          ms_filter_result_fail (r, msg);
        }
      if (a->kind == MS_ACTION_FILEINTO && *a->target == '\0')
        {
          g_ptr_array_add (r->errors, g_strdup ("fileinto with an empty folder name"));
          ms_filter_result_fail (r, "fileinto with an empty folder name");
        }
      excludes_reject |= ms_action_info (a->kind)->excludes_reject;
      rejects |= a->kind == MS_ACTION_REJECT;
    }

  /* RFC 5429 2.1 / RFC 5230 4.7: reject cannot be combined with keep,
   * fileinto, redirect or vacation. libsieve stops silently there; we make
   * it the error it is, and the message is kept. */
  if (!r->failed && rejects && excludes_reject)
    {
      const char *msg = "reject cannot be combined with keep, fileinto, redirect or vacation";
      g_ptr_array_add (r->errors, g_strdup (msg));
      ms_filter_result_fail (r, msg);
    }

  if (r->failed)
    {
      /* the message as it came, and nothing remembered of this run */
      g_ptr_array_set_size (r->actions, 0);
      g_ptr_array_set_size (r->edits, 0);
      g_ptr_array_set_size (r->duplicates, 0);
      keep_implicitly (r);
      return;
    }

  kept = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_action_free);
  for (guint i = 0; i < r->actions->len; i++)
    {
      MsAction *a = r->actions->pdata[i];
      MsAction *twin = NULL;

      for (guint k = 0; k < kept->len && twin == NULL; k++)
        if (same_target (kept->pdata[k], a))
          twin = kept->pdata[k];
      if (twin != NULL)
        {
          if (a->kind == MS_ACTION_VACATION)
            g_ptr_array_add (r->warnings, g_strdup ("a second vacation action was ignored"));
          if (r->complete)
            {
              /* mailsift's engine: the last one's flags, as Pigeonhole */
              g_strfreev (twin->flags);
              twin->flags = g_steal_pointer (&a->flags);
            }
          else
            merge_flags (twin, a->flags);
          continue;
        }
      g_ptr_array_add (kept, g_steal_pointer (&r->actions->pdata[i]));
    }
  g_ptr_array_set_size (r->actions, 0);
  for (guint i = 0; i < kept->len; i++)
    {
      const MsActionInfo *info = ms_action_info (((MsAction *) kept->pdata[i])->kind);
      disposes |= info->disposes;
      cancels_implicit_keep |= info->cancels_implicit_keep;
    }
  for (guint i = 0; i < kept->len; i++)
    {
      const MsActionInfo *info = ms_action_info (((MsAction *) kept->pdata[i])->kind);
      /* discard only cancels the implicit keep (RFC 5228 4.5): with an
       * action that disposes of the message it says nothing */
      if (info->cancels_implicit_keep && !info->disposes && disposes)
        continue;
      g_ptr_array_add (r->actions, g_steal_pointer (&kept->pdata[i]));
    }
  if (!cancels_implicit_keep && !r->complete)
    keep_implicitly (r);
}

/* ---------------------------------------------------------------- wire */

/* The result in the filter pipe's format (wire.h): a version, the flags,
 * the texts, then the actions, the header edits and the duplicate marks.
 * Strings are sent as valid UTF-8. */
#define RESULT_VERSION 1u

enum {
  RESULT_FAILED = 1 << 0,
  RESULT_COMPLETE = 1 << 1,
  RESULT_NEEDS_BODY = 1 << 2,
};

enum {
  ACTION_IMPLICIT = 1 << 0,
  ACTION_MIME = 1 << 1,
};

void
ms_filter_result_encode (const MsFilterResult *r, GByteArray *out)
{
  ms_wire_put_u32 (out, RESULT_VERSION);
  ms_wire_put_u32 (out, (r->failed ? RESULT_FAILED : 0) | (r->complete ? RESULT_COMPLETE : 0)
                          | (r->needs_body ? RESULT_NEEDS_BODY : 0));
  ms_wire_put_str (out, r->failure, TRUE);
  ms_wire_put_strv (out, (char *const *) r->errors->pdata, r->errors->len, TRUE);
  ms_wire_put_strv (out, (char *const *) r->warnings->pdata, r->warnings->len, TRUE);
  ms_wire_put_strv (out, (char *const *) r->trace->pdata, r->trace->len, TRUE);
  ms_wire_put_u32 (out, r->actions->len);
  for (guint i = 0; i < r->actions->len; i++)
    {
      const MsAction *a = r->actions->pdata[i];

      ms_wire_put_u32 (out, a->kind);
      ms_wire_put_u32 (out, (a->implicit ? ACTION_IMPLICIT : 0) | (a->mime ? ACTION_MIME : 0));
      ms_wire_put_u32 (out, (guint32) a->days);
      ms_wire_put_u64 (out, (guint64) a->seconds);
      ms_wire_put_u32 (out, a->edits);
      ms_wire_put_str (out, a->target, TRUE);
      ms_wire_put_strv (out, a->flags, -1, TRUE);
      ms_wire_put_str (out, a->from, TRUE);
      ms_wire_put_str (out, a->subject, TRUE);
      ms_wire_put_str (out, a->text, TRUE);
      ms_wire_put_str (out, a->handle, TRUE);
      ms_wire_put_strv (out, a->addresses, -1, TRUE);
      ms_wire_put_str (out, a->priority, TRUE);
      ms_wire_put_strv (out, a->options, -1, TRUE);
    }
  ms_wire_put_u32 (out, r->edits->len);
  for (guint i = 0; i < r->edits->len; i++)
    {
      const MsHeaderEdit *e = r->edits->pdata[i];

      ms_wire_put_u32 (out, e->kind);
      ms_wire_put_str (out, e->name, TRUE);
      ms_wire_put_str (out, e->value, TRUE);
      ms_wire_put_u32 (out, e->last ? 1 : 0);
      ms_wire_put_u32 (out, e->index);
    }
  ms_wire_put_u32 (out, r->duplicates->len);
  for (guint i = 0; i < r->duplicates->len; i++)
    {
      const MsDuplicateMark *m = r->duplicates->pdata[i];

      ms_wire_put_str (out, m->hash, TRUE);
      ms_wire_put_u32 (out, m->seen ? 1 : 0);
    }
}

/* Strings of @strv (transfer full) appended to @into. */
static void
take_strings (GPtrArray *into, char **strv)
{
  for (guint i = 0; strv && strv[i]; i++)
    g_ptr_array_add (into, strv[i]);
  g_free (strv);
}

MsFilterResult *
ms_filter_result_decode (const guint8 *data, gsize len)
{
  g_autoptr (MsFilterResult) r = ms_filter_result_new ();
  MsWireReader w;
  guint32 flags, n;

  ms_wire_reader_init (&w, data, len, TRUE);
  if (ms_wire_get_u32 (&w) != RESULT_VERSION)
    return NULL;
  flags = ms_wire_get_u32 (&w);
  r->failed = (flags & RESULT_FAILED) != 0;
  r->complete = (flags & RESULT_COMPLETE) != 0;
  r->needs_body = (flags & RESULT_NEEDS_BODY) != 0;
  r->failure = ms_wire_get_str (&w);
  take_strings (r->errors, ms_wire_get_strv (&w));
  take_strings (r->warnings, ms_wire_get_strv (&w));
  take_strings (r->trace, ms_wire_get_strv (&w));
  n = ms_wire_get_count (&w, 4 * 4 + 8 + 9 * 4); /* the least an action takes */
  for (guint32 i = 0; i < n && !w.bad; i++)
    {
      MsAction *a = ms_action_new (MS_ACTION_KEEP, NULL);
      guint32 kind = ms_wire_get_u32 (&w);
      guint32 aflags = ms_wire_get_u32 (&w);

      a->kind = kind < MS_ACTION_N_KINDS ? (MsActionKind) kind : MS_ACTION_KEEP;
      a->implicit = (aflags & ACTION_IMPLICIT) != 0;
      a->mime = (aflags & ACTION_MIME) != 0;
      a->days = (int) ms_wire_get_u32 (&w);
      a->seconds = (gint64) ms_wire_get_u64 (&w);
      a->edits = ms_wire_get_u32 (&w);
      a->target = ms_wire_get_str (&w);
      a->flags = ms_wire_get_strv (&w);
      a->from = ms_wire_get_str (&w);
      a->subject = ms_wire_get_str (&w);
      a->text = ms_wire_get_str (&w);
      a->handle = ms_wire_get_str (&w);
      a->addresses = ms_wire_get_strv (&w);
      a->priority = ms_wire_get_str (&w);
      a->options = ms_wire_get_strv (&w);
      g_ptr_array_add (r->actions, a);
    }
  n = ms_wire_get_count (&w, 4 * 4);
  for (guint32 i = 0; i < n && !w.bad; i++)
    {
      guint32 kind = ms_wire_get_u32 (&w);
      g_autofree char *name = ms_wire_get_str (&w);
      g_autofree char *value = ms_wire_get_str (&w);
      gboolean last = ms_wire_get_u32 (&w) != 0;
      guint32 index = ms_wire_get_u32 (&w);

      if (name == NULL || value == NULL)
        w.bad = TRUE;
      else
        g_ptr_array_add (r->edits, ms_header_edit_new (kind == MS_HEADER_EDIT_DELETE ? MS_HEADER_EDIT_DELETE
                                                                                     : MS_HEADER_EDIT_ADD,
                                                       name, value, last, index));
    }
  n = ms_wire_get_count (&w, 2 * 4);
  for (guint32 i = 0; i < n && !w.bad; i++)
    {
      g_autofree char *hash = ms_wire_get_str (&w);
      gboolean seen = ms_wire_get_u32 (&w) != 0;

      if (hash == NULL)
        w.bad = TRUE;
      else
        ms_filter_result_add_duplicate (r, hash, seen);
    }
  if (!ms_wire_reader_done (&w))
    return NULL;
  /* an action carries at most the edits there are */
  for (guint i = 0; i < r->actions->len; i++)
    {
      MsAction *a = r->actions->pdata[i];
      a->edits = MIN (a->edits, r->edits->len);
    }
  return g_steal_pointer (&r);
}
