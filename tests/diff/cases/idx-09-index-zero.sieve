require ["index", "fileinto"];
if header :index 0 :contains "received" "relay" { fileinto "Zero"; }
fileinto "After";
