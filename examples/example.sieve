# example.sieve - the script `make example` runs on examples/messages/.
#
# It sorts mailing lists into folders, files newsletters and invoices,
# flags mail from the boss, and answers direct mail while you are away.
# Check it with:  mailsift check example.sieve
# Try it with:    mailsift test -f boss@example.com -a me@example.org \
#                     example.sieve messages/03-boss.eml
#
# libsieve 2.2.6 runs this script. The rules below stay inside what it
# handles correctly (see "Sieve support" in the README):
#  - every extension used is named in require;
#  - flags are set with addflag and :flags only (no setflag after addflag,
#    no hasflag with a match type);
#  - the strings in tests contain no backslash escapes.

require ["fileinto", "imap4flags", "vacation"];

# 1. Mailing lists, one folder per list. A List-Id looks like
#    "Developers <dev.lists.example.org>"; match the part in brackets.
if header :contains "List-Id" "<dev.lists.example.org>" {
    fileinto "Lists.dev";
    stop;
}
if header :contains "List-Id" "<announce.lists.example.org>" {
    fileinto "Lists.announce";
    stop;
}
# Any other list.
if exists "List-Id" {
    fileinto "Lists";
    stop;
}

# 2. Newsletters: bulk mail that offers an unsubscribe link. Filed as
#    already read.
if allof (exists "List-Unsubscribe",
          header :is "Precedence" "bulk") {
    fileinto :flags "\\Seen" "Newsletters";
    stop;
}

# 3. Bounces and other delivery reports.
if address :localpart :is "from" ["mailer-daemon", "postmaster"] {
    fileinto "Bounces";
    stop;
}

# 4. Invoices. mailsift decodes RFC 2047 encoded subjects before the
#    test, so this matches "=?UTF-8?B?...?=" subjects too.
if header :contains "subject" "invoice" {
    fileinto "Invoices";
    stop;
}

# 5. The boss: flagged, stays in INBOX. The flag is applied by the
#    explicit keep at the end; an implicit keep would drop it.
if address :is "from" "boss@example.com" {
    addflag "\\Flagged";
}

# 6. Away: answer mail sent to me directly, at most once a week per
#    sender. mailsift itself never answers lists, bulk mail, bounces or
#    automatic replies, whatever the script says.
if address :is ["to", "cc"] "me@example.org" {
    vacation :days 7 :subject "Away until 1 December"
text:
I am away until 1 December and read mail only now and then.
For anything urgent, please write to deputy@example.org.
.
;
}

keep;
