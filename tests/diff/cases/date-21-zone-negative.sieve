require ["date", "fileinto"];
if date :zone "-1000" "date" "date" "2026-11-11" { fileinto "SameDay"; }
if date :zone "-1000" "date" "hour" "05" { fileinto "H05"; }
