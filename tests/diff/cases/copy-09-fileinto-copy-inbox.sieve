require ["copy", "fileinto"];
fileinto :copy "INBOX";
