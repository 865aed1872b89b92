# Date part names are case-insensitive.
require ["date", "fileinto"];
if date :originalzone "date" "YEAR" "2026" { fileinto "Y2026"; }
