require ["index", "fileinto"];
if header :index 1 :contains "received" "relay2" { fileinto "Topmost"; }
