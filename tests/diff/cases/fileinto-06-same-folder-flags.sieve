# The same folder twice with different flags: one delivery.
require ["fileinto", "imap4flags"];
fileinto :flags "\\Seen" "Boss";
fileinto "Boss";
