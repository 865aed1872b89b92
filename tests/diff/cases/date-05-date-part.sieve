require ["date", "fileinto"];
if date :originalzone "date" "date" "2026-11-11" { fileinto "Day"; }
