# Without :zone the local time zone is used (the harness runs in UTC).
require ["date", "fileinto"];
if date "date" "hour" "15" { fileinto "H15"; }
if date "date" "zone" "+0000" { fileinto "Zulu"; }
