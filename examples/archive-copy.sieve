# archive-copy.sieve - send a copy of every message to an archive address
# and keep the original in INBOX.
#
# redirect alone would cancel the implicit keep, so the script keeps the
# message explicitly. The copy is queued with your first configured
# address as envelope sender; it is not sent yet (SMTP sending is still
# to be built).

redirect "archive@example.net";
keep;
