require ["date", "fileinto"];
if date :originalzone "date" "hour" "16" { fileinto "H16"; }
