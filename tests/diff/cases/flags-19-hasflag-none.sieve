require ["imap4flags", "fileinto"];
if hasflag :matches "*" { fileinto "Wrong"; }
else { fileinto "NoFlags"; }
