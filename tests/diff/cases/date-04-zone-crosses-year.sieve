# Date: Thu, 31 Dec 2026 23:30:00 -0800 is 2027 in UTC.
require ["date", "fileinto"];
if date :zone "+0000" "date" "year" "2027" { fileinto "UTC2027"; }
if date :originalzone "date" "year" "2026" { fileinto "Local2026"; }
