# :flags replaces the current flags for this action only.
require ["imap4flags", "fileinto"];
addflag "\\Seen";
fileinto :flags "\\Flagged" "Boss";
keep;
