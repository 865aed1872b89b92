require ["imap4flags", "fileinto"];
addflag "\\Flagged";
setflag "\\Seen";
fileinto "Boss";
