require ["editheader", "index", "fileinto"];
addheader :last "X-Tag" "delta";
addheader "X-Tag" "zero";
if header :index 1 :last :is "x-tag" "delta" { fileinto "AtEnd"; }
if header :index 1 :is "x-tag" "zero" { fileinto "AtStart"; }
