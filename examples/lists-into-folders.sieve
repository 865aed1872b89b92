# lists-into-folders.sieve - one Maildir folder per mailing list.
#
# fileinto "Lists.dev" delivers into ~/Maildir/.Lists.dev/ (Maildir++),
# which IMAP servers such as Dovecot show as folder "dev" inside "Lists".
# Folders are created on first use.

require "fileinto";

# Match the identifier in angle brackets, not the description before it:
# "List-Id: Developers <dev.lists.example.org>".
if header :contains "List-Id" "<dev.lists.example.org>" {
    fileinto "Lists.dev";
    stop;
}
if header :contains "List-Id" "<announce.lists.example.org>" {
    fileinto "Lists.announce";
    stop;
}

# Older lists that send no List-Id but set their own Sender.
if address :is "sender" "users-owner@lists.example.net" {
    fileinto "Lists.users";
    stop;
}

# Everything else that came through a list.
if exists "List-Id" {
    fileinto "Lists";
    stop;
}
