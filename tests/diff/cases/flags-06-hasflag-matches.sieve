require ["imap4flags", "fileinto"];
addflag "$Label1";
if hasflag :matches "$Label?" { fileinto "Label"; }
