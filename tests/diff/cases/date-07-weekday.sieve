# Wednesday is 3 (Sunday is 0).
require ["date", "fileinto"];
if date :originalzone "date" "weekday" "3" { fileinto "Wednesday"; }
