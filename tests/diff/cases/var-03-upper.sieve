require ["variables", "fileinto"];
set :upper "f" "boss";
fileinto "${f}";
