require ["variables", "fileinto"];
set :length "n" "";
fileinto "L${n}";
