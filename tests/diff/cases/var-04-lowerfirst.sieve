require ["variables", "fileinto"];
set :lowerfirst "f" "BOSS";
fileinto "${f}";
