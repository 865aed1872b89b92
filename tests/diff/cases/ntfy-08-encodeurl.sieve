require ["enotify", "variables", "fileinto"];
set :encodeurl "q" "a b&c";
fileinto "Q.${q}";
