require ["date", "fileinto"];
if date :originalzone "date" "std11" "Wed, 11 Nov 2026 16:02:11 +0100" { fileinto "Std11"; }
