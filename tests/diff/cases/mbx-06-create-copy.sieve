require ["mailbox", "fileinto", "copy"];
fileinto :create :copy "Boss";
