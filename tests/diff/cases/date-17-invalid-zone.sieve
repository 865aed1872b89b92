# "CET" is not a +hhmm offset (RFC 5260 4.1).
require ["date", "fileinto"];
if date :zone "CET" "date" "hour" "16" { fileinto "H16"; }
if date :zone "CET" "date" "hour" "15" { fileinto "H15"; }
