require ["mailbox", "fileinto"];
if mailboxexists "No.Such.Folder" { fileinto "Wrong"; }
else { fileinto "Missing"; }
