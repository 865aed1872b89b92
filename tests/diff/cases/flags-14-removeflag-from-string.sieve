require ["imap4flags", "fileinto"];
addflag "\\Seen \\Flagged";
removeflag "\\Seen";
fileinto "Boss";
