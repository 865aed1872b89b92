/* mailsift - the result of filtering one message: a list of actions.
 *
 * The Sieve engine produces raw actions; ms_filter_result_finish() applies
 * the rules libsieve leaves to the application (RFC 5228 2.10): string
 * unescaping, flag normalisation, de-duplication, the reject conflict rule,
 * redirect address validation and implicit keep. */
#pragma once

#include "header-edit.h"

#include <glib.h>

typedef enum {
  MS_ACTION_KEEP,
  MS_ACTION_FILEINTO,
  MS_ACTION_REDIRECT,
  MS_ACTION_DISCARD,
  MS_ACTION_REJECT,
  MS_ACTION_VACATION,
  MS_ACTION_NOTIFY,
} MsActionKind;

/* The number of kinds: MsActionKind runs from 0 to one below it. */
#define MS_ACTION_N_KINDS (MS_ACTION_NOTIFY + 1)

typedef struct {
  MsActionKind kind;
  gboolean implicit;  /* a keep added by the implicit-keep rule */
  char *target;       /* fileinto: mailbox; redirect/vacation: address;
                       * notify: method; reject: reason text */
  char **flags;       /* keep/fileinto IMAP flags; NULL for none */
  /* vacation */
  char *from;         /* :from, may be NULL */
  char *subject;      /* may be NULL (then "Auto: " + original) */
  char *text;         /* vacation reason, notify message */
  char *handle;       /* :handle, may be NULL */
  int days;
  gint64 seconds;     /* vacation :seconds; 0 when not given */
  char **addresses;   /* vacation :addresses; NULL for none */
  gboolean mime;
  /* notify */
  char *priority;
  char **options;
  /* editheader (RFC 5293): keep, fileinto and redirect deliver, and
   * vacation reads, the header with the first @edits of the result's
   * edits applied: those the script made before this action */
  guint edits;
} MsAction;

MsAction *ms_action_new (MsActionKind kind, const char *target);
void ms_action_free (MsAction *action);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAction, ms_action_free)

/* A string of an action that must fit a header field of the message
 * mailsift writes for it (ms_action_unsafe_field). */
typedef struct {
  const char *name;  /* as the script names it: ":from", "method"... */
  gsize offset;      /* of the member in MsAction: a char *, or a char **
                      * when list */
  gboolean list;
  gboolean address;  /* see ms_action_field_problem */
} MsActionField;

/* What an action of one kind does: one row per MsActionKind, the
 * kinds it holds for after the colon. */
typedef struct {
  const char *name;  /* the Sieve command (ms_action_kind_to_string) */
  /* delivers a copy into a folder: keep, fileinto */
  gboolean files;
  /* that folder is the one its target names, not the INBOX: fileinto */
  gboolean named_folder;
  /* sends mail, through the outbound queue in the state store: redirect,
   * reject, vacation, notify */
  gboolean sends;
  /* the message goes somewhere: into a folder, to another address, or
   * back to its sender: keep, fileinto, redirect, reject */
  gboolean disposes;
  /* a result holding it gets no implicit keep (RFC 5228 2.10.2): keep,
   * fileinto, redirect, reject, discard */
  gboolean cancels_implicit_keep;
  /* cannot go with a reject (RFC 5429 2.1): keep, fileinto, redirect,
   * vacation */
  gboolean excludes_reject;
  /* appends what follows the name in `mailsift test` output
   * (ms_action_format); NULL for nothing */
  void (*format) (GString *out, const MsAction *action);
  /* whether @b repeats @a, both of this kind, so that
   * ms_filter_result_finish keeps @a only; NULL: any two do, a result
   * holds one at most */
  gboolean (*same) (const MsAction *a, const MsAction *b);
  /* the strings ms_action_unsafe_field checks, in that order, up to one
   * with a NULL name: vacation, notify; NULL for the others */
  const MsActionField *header_fields;
} MsActionInfo;

/* The row of @kind; for a value outside MsActionKind a row named "?"
 * that does nothing. */
const MsActionInfo *ms_action_info (MsActionKind kind);

const char *ms_action_kind_to_string (MsActionKind kind);

/* The folder a keep or fileinto delivers into: "INBOX" for keep, the
 * target for fileinto; NULL for a kind that files nothing. */
const char *ms_action_folder (const MsAction *action);

/* One line in the format `mailsift test` prints (see mailsift(1)):
 * keep [flags=A,B] | fileinto "F" [flags=..] | redirect "A" | discard |
 * reject "T" | vacation to="A" subject="S" days=N [from=..] [handle=..] |
 * notify method="M" [priority=..] [message=".."]. Transfer full. */
char *ms_action_format (const MsAction *action);

/* Why @value (of @len bytes) cannot go into a message mailsift writes,
 * or NULL when it can. With @address (vacation :from and :addresses, a
 * notify method or :from) no control character at all is allowed;
 * otherwise (vacation :subject and :handle: header text, RFC 5322 2.2)
 * none but tab. A line break here would start a header field of the
 * sender's choosing (CWE-93), so it is refused, never folded or cut. */
const char *ms_action_field_problem (const char *value, gsize len, gboolean address);

/* The first field of a vacation or notify action that fails
 * ms_action_field_problem: its name (":from", "method"...) in @field_out,
 * its value in @value_out, and the reason returned; NULL when every
 * field is fine. */
const char *ms_action_unsafe_field (const MsAction *action, const char **field_out,
                                    const char **value_out);

/* duplicate (RFC 7352): the longest period a test can look back, and so
 * how long the history keeps an entry no message tested again. */
#define MS_DUPLICATE_MAX_SECONDS (30 * 86400)

/* duplicate (RFC 7352): an ID the script tested, to be remembered once
 * the message is delivered (never for a failed script or delivery). */
typedef struct {
  char *hash;     /* lowercase hex SHA-256 of the :handle and the ID */
  gboolean seen;  /* the test found it within its period; if not (or if
                   * any test of the run did not), tracking starts anew */
} MsDuplicateMark;

typedef struct {
  GPtrArray *actions;  /* MsAction*, in execution order */
  GPtrArray *errors;   /* char*: "LINE: text" or "text"; any => failed */
  GPtrArray *warnings; /* char*: things dropped but not fatal */
  GPtrArray *trace;    /* char*: what the engine did, for --trace */
  gboolean failed;     /* script broken, crashed or timed out */
  gboolean complete;   /* mailsift's own engine: strings are final and the
                        * implicit keep is already decided */
  gboolean needs_body; /* the script reads message bodies (also set in
                        * MS_FILTER_VALIDATE mode): run it on the whole
                        * message, not on a header-only fetch */
  char *failure;       /* one-line reason when failed */
  GPtrArray *edits;    /* MsHeaderEdit*: header edits, in the order the
                        * script made them (see MsAction.edits) */
  GPtrArray *duplicates; /* MsDuplicateMark*, one per hash */
} MsFilterResult;

MsFilterResult *ms_filter_result_new (void);
void ms_filter_result_free (MsFilterResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsFilterResult, ms_filter_result_free)

/* Note that the ID @hash was tested (merging with an earlier test of
 * the same hash). */
void ms_filter_result_add_duplicate (MsFilterResult *result, const char *hash, gboolean seen);

/* One line per header edit, as `mailsift test` prints it (see
 * mailsift(1)): addheader [:last] "Name: value" | deleteheader "Name:
 * value", the value as a header test sees it. Transfer full. */
char *ms_header_edit_format (const MsHeaderEdit *edit);

/* The result as `mailsift test` prints it: each action (ms_action_format)
 * after the header edits it is the first to carry, so the lines read in
 * the order the script did things. Edits that no action carries change
 * nothing and are left out. NULL-terminated; transfer full. */
char **ms_filter_result_format (const MsFilterResult *result);

/* Mark @result failed with @reason (first reason wins), which makes
 * ms_filter_result_finish() drop every action and keep the message. */
void ms_filter_result_fail (MsFilterResult *result, const char *reason);

/* Sieve string unescaping (RFC 5228 2.4.2): "\\x" becomes "x".
 * Transfer full. */
char *ms_sieve_unescape (const char *s);

/* Apply the post-processing rules above, in place. After this the list
 * holds at least one of keep/fileinto/redirect/discard, unless the script
 * explicitly discarded. A failed result keeps the message as it came:
 * its header edits and duplicate marks are dropped. For a complete result (mailsift's own engine)
 * nothing is unescaped and no implicit keep is added: the engine did
 * both. */
void ms_filter_result_finish (MsFilterResult *result);

/* The result in the byte format of the pipe between the filter process
 * and the agent (wire.h), appended to @out. */
void ms_filter_result_encode (const MsFilterResult *result, GByteArray *out);
/* The result encoded in @data, or NULL when it is not a well-formed
 * encoding (a version of its own, every count and length within @len,
 * strings UTF-8 without NUL, nothing left over). */
MsFilterResult *ms_filter_result_decode (const guint8 *data, gsize len);
