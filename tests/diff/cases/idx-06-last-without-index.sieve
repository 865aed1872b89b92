require ["index", "fileinto"];
if header :last :contains "received" "laptop" { fileinto "Never"; }
