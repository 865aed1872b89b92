require ["variables", "fileinto"];
set :lower :upper "f" "Boss";
fileinto "${f}";
