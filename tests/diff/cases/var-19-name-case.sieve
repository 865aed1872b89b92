require ["variables", "fileinto"];
set "MyFolder" "Boss";
fileinto "${myfolder}";
