# The date of a Received field is the part after its last ";".
require ["date", "fileinto"];
if date :zone "+0000" "received" "date" "2027-01-01" { fileinto "Received"; }
