require ["date", "fileinto"];
if date :originalzone "date" "year" "2026" { fileinto "Wrong"; }
else { fileinto "NoDate"; }
