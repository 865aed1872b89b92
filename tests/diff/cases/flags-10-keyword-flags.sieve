require ["imap4flags", "fileinto"];
addflag "$Work Important";
fileinto "Boss";
