require ["date", "fileinto"];
if date :zone "+0000" "date" "hour" "15" { fileinto "H15"; }
