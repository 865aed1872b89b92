# The implicit keep also stores the current flags.
require "imap4flags";
addflag ["\\Seen", "\\Flagged"];
