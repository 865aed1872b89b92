/* Fuzz target for mailsift's Sieve engine: lexer, parser, validator and
 * interpreter (filters/sieve-*.c) on hostile scripts and messages. Not
 * built by make; tests/fuzz/build.sh builds it (and the other targets)
 * with clang's libFuzzer, ASan and UBSan:
 *
 *   tests/fuzz/build.sh                       # -> tests/fuzz/out/
 *   tests/fuzz/out/fuzz-sieve-script -max_len=8192 -timeout=10 \
 *       -max_total_time=1800 tests/fuzz/out/corpus-script tests/fuzz/out/seeds-script
 *
 * Input: the script, then a NUL byte, then the message (may be
 * absent). The script is compiled; when it compiles, it runs on the
 * message (its header, and the whole message as the message file the
 * body and MIME part tests read) with a fixed envelope. Every outcome is fine except a crash, a
 * sanitizer report, a leak or a timeout (-timeout: nothing may loop). */
#include "action.h"
#include "engine.h"
#include "header-edit.h"
#include "header.h"
#include "sieve-interp.h"
#include "sieve-script.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const guint8 *nul = memchr (data, '\0', size);
  gsize slen = nul ? (gsize) (nul - data) : size;
  const char *msg = nul ? (const char *) nul + 1 : "";
  gsize mlen = nul ? size - slen - 1 : 0;
  g_autoptr (MsSvScript) script = ms_sv_script_compile ((const char *) data, slen, "/nonexistent/fuzz.sieve");
  g_autoptr (GBytes) header = NULL;
  g_autoptr (MsFilterResult) result = NULL;
  static const char *const options[] = { "maildir=/nonexistent", "folder_separator=.",
                                         "spamtest_header=X-Spam-Score", NULL };
  MsFilterRequest req = {
    .mode = MS_FILTER_EXECUTE,
    .script_path = "/nonexistent/fuzz.sieve",
    .size = mlen,
    .envelope_from = "alice@example.org",
    .envelope_to = "me+lists@example.org",
    .subaddress_separator = "+",
    .options = options,
  };

  static int message_fd = -1;
  static char message_path[64];

  if (script->errors->len > 0)
    return 0;
  /* the message file, in memory */
  if (message_fd < 0)
    {
      message_fd = memfd_create ("fuzz-message", MFD_CLOEXEC);
      g_snprintf (message_path, sizeof message_path, "/proc/self/fd/%d", message_fd);
    }
  if (ftruncate (message_fd, 0) != 0 || pwrite (message_fd, msg, mlen, 0) != (ssize_t) mlen)
    return 0;
  req.message_path = message_path;
  header = g_bytes_new (msg, mlen);
  req.header = header;
  result = ms_filter_result_new ();
  result->complete = TRUE;
  ms_sv_execute (script, &req, result);
  ms_filter_result_finish (result);
  /* the result is never empty: something delivers or it is discarded */
  g_assert (result->actions->len > 0);
  /* the agent makes the header changes on the message to deliver it */
  if (result->edits->len > 0)
    {
      g_autoptr (MsHeaderView) view = ms_header_view_new (msg, mlen);
      g_autoptr (GBytes) edited = ms_header_edits_apply (header, ms_header_view_get_header_size (view),
                                                         result->edits, result->edits->len);
      g_assert (edited != NULL);
    }
  return 0;
}

#ifdef FUZZ_STANDALONE
#include <stdio.h>
int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *buf = NULL;
      gsize len;
      if (!g_file_get_contents (argv[i], &buf, &len, NULL))
        continue;
      LLVMFuzzerTestOneInput ((const guint8 *) buf, len);
    }
  return 0;
}
#endif
