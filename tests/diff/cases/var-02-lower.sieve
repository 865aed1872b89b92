require ["variables", "fileinto"];
set :lower "f" "BoSS";
fileinto "${f}";
