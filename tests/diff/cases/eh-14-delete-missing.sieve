require ["editheader", "fileinto"];
deleteheader "x-not-there";
fileinto "After";
