require ["fileinto", "imap4flags"];
fileinto :flags "\\Seen" "Lists.dev";
