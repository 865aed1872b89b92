require ["mailbox", "fileinto"];
fileinto :create "Boss.New";
