require ["imap4flags", "fileinto"];
addflag "\\Seen";
setflag "";
fileinto "Boss";
