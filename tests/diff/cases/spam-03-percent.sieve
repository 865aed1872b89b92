require ["spamtestplus", "relational", "comparator-i;ascii-numeric", "fileinto"];
if spamtest :percent :value "eq" :comparator "i;ascii-numeric" "80" { fileinto "Eighty"; }
