require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if address :count "eq" :comparator "i;ascii-numeric" "cc" "2" { fileinto "TwoCc"; }
