require ["mailbox", "fileinto"];
if mailboxexists ["INBOX", "Nope"] { fileinto "Wrong"; }
else { fileinto "NotAll"; }
