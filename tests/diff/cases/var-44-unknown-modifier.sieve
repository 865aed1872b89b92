require ["variables", "fileinto"];
set :reverse "f" "Boss";
fileinto "${f}";
