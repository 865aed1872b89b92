/* Fuzz target for the IMAP source: everything an IMAP server sends
 * during a fetch (greeting, CAPABILITY, the LOGIN answer, SELECT, the
 * FETCH listing, UID FETCH bodies, STORE/EXPUNGE answers, LOGOUT), read
 * through mailsift's network layer and its bounds (agent/net-bounds.c) by
 * agent/source-imap.c and delivered by agent/fetch.c. Not built by make;
 * tests/fuzz/build.sh builds it (see there for how to run it).
 *
 * Input: the server's side of the whole session, as one byte stream
 * (libetpan tags commands 1, 2, 3...). See fuzz-fetch.h for the fake
 * server. The account deletes what it fetched (STORE \Deleted + UID
 * EXPUNGE with UIDPLUS) and leaves messages over 64 KiB on the server
 * with a note, so those answers are parsed too. */
#include "fuzz-fetch.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fake_init ("protocol = imap\nfolders = INBOX\nafter_delivery = delete\nmax_message_size = 64\n");
  fake_fetch (data, size, NULL, NULL);
  return 0;
}
