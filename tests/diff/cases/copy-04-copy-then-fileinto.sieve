require ["copy", "fileinto"];
fileinto :copy "Boss";
fileinto "Archive";
