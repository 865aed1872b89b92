require ["date", "fileinto"];
if date :originalzone "date" "zone" "+0100" { fileinto "Original"; }
if date :zone "-0500" "date" "zone" "-0500" { fileinto "Given"; }
