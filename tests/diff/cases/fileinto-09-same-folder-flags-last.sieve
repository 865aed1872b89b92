# The same folder twice, flags on the second only.
require ["fileinto", "imap4flags"];
fileinto "Boss";
fileinto :flags "\\Seen" "Boss";
