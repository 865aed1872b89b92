require ["imap4flags", "fileinto"];
addflag ["\\Seen", "\\Flagged", "\\Answered"];
removeflag ["\\Seen", "\\Answered"];
fileinto "Boss";
