require ["imap4flags", "fileinto"];
addflag "\\Seen";
if hasflag "\\SEEN" { fileinto "CaseInsensitive"; }
