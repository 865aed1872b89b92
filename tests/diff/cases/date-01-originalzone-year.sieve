# Date: Wed, 11 Nov 2026 16:02:11 +0100
require ["date", "fileinto"];
if date :originalzone "date" "year" "2026" { fileinto "Y2026"; }
