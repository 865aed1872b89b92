require ["date", "relational", "fileinto"];
if date :value "ge" :originalzone "date" "month" "06" { fileinto "SecondHalf"; }
