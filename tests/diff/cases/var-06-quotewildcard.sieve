require ["variables", "fileinto"];
set :quotewildcard "f" "a*b?c\\d";
fileinto "${f}";
