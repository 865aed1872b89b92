# archive-copy.sieve - send a copy of every message to an archive address
# and keep the original in INBOX.
#
# redirect :copy (RFC 3894) sends the copy without cancelling the
# implicit keep. The copy is queued and sent through the smarthost of
# your [smtp NAME] groups, with your first configured address as the
# envelope sender.

require "copy";

redirect :copy "archive@example.net";
