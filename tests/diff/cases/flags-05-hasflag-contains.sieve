require ["imap4flags", "fileinto"];
addflag "\\Answered";
if hasflag :contains "swer" { fileinto "Contains"; }
