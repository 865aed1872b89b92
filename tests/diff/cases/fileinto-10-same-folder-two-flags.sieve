require ["fileinto", "imap4flags"];
fileinto :flags "\\Flagged" "Boss";
fileinto :flags "\\Seen" "Boss";
