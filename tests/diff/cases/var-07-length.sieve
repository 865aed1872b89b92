require ["variables", "fileinto"];
set :length "n" "twelve chars";
fileinto "L${n}";
