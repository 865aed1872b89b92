require ["index", "fileinto"];
if header :index 2 :is "x-tag" "beta" { fileinto "Second"; }
if header :index 2 :last :is "x-tag" "BETA" { fileinto "SecondLast"; }
