require ["imap4flags", "fileinto"];
addflag "\\Seen";
if hasflag :comparator "i;octet" "\\SEEN" { fileinto "Wrong"; }
else { fileinto "CaseSensitive"; }
