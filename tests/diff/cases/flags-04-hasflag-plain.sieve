require ["imap4flags", "fileinto"];
addflag "\\Seen";
if hasflag "\\Seen" { fileinto "HasSeen"; }
