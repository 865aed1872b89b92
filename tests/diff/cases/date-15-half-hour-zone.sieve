# Date: Mon, 7 Dec 2026 09:05:30 +0530
require ["date", "fileinto"];
if date :zone "+0000" "date" "time" "03:35:30" { fileinto "UTC"; }
if date :originalzone "date" "day" "07" { fileinto "Day07"; }
