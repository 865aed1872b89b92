require "imap4flags";
setflag ["\\Seen", "\\Answered"];
keep;
