require ["editheader", "index", "fileinto"];
deleteheader :index 1 "x-tag";
if header :index 1 :is "x-tag" "beta" { fileinto "BetaFirst"; }
