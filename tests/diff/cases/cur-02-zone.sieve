require ["date", "fileinto"];
if currentdate :zone "+0000" "zone" "+0000" { fileinto "UTC"; }
