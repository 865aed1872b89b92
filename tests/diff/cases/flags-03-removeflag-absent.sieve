require ["imap4flags", "fileinto"];
removeflag "\\Seen";
fileinto "Boss";
