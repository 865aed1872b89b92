require ["variables", "fileinto"];
set "folder" "Boss";
fileinto "${folder}";
