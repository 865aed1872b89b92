# flag-from-boss.sieve - mark mail from one person as flagged (important).
#
# The message stays in INBOX; the flag becomes the F in the Maildir file
# name (new mail with flags goes to cur/, e.g. "...:2,F"), which IMAP
# clients show as a flag or star.

require "imap4flags";

if address :is "from" ["boss@example.com", "boss@example.net"] {
    # Name the flags on the keep itself. With libsieve, flags set by
    # addflag reach an explicit keep or fileinto, but never the implicit
    # keep, so a script that relies on the implicit keep loses them.
    keep :flags "\\Flagged";
    stop;
}
