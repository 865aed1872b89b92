require ["copy", "fileinto"];
fileinto :copy "Boss";
