require ["variables", "fileinto"];
set :upperfirst "f" "boss";
fileinto "${f}";
