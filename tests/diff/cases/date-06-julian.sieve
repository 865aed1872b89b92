# Modified Julian Day of 2026-11-11.
require ["date", "fileinto"];
if date :originalzone "date" "julian" "61355" { fileinto "Julian"; }
