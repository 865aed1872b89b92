/* Fuzz target for the POP3 source: everything a POP3 server sends during
 * a fetch (greeting, CAPA, USER/PASS answers, STAT, UIDL and LIST
 * listings, RETR/TOP with dot-stuffing, DELE, QUIT), read through
 * mailsift's network layer and its line bounds (agent/net-bounds.c) by
 * agent/source-pop3.c and delivered by agent/fetch.c. Not built by make;
 * tests/fuzz/build.sh builds it (see there for how to run it).
 *
 * Input: the server's side of the whole session, as one byte stream.
 * See fuzz-fetch.h for the fake server. The account deletes what it
 * fetched and leaves messages over 64 KiB on the server with a note. */
#include "fuzz-fetch.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fake_init ("protocol = pop3\nafter_delivery = delete\nmax_message_size = 64\n");
  fake_fetch (data, size, NULL, NULL);
  return 0;
}
