require ["imap4flags", "fileinto"];
addflag "\\Answered";
if hasflag ["\\Seen", "\\Answered"] { fileinto "Either"; }
