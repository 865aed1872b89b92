require ["date", "fileinto"];
if date :originalzone "date" "fortnight" "1" { fileinto "Never"; }
fileinto "After";
