require ["imap4flags", "fileinto"];
addflag ["\\Seen", "\\seen", "\\SEEN"];
fileinto "Boss";
