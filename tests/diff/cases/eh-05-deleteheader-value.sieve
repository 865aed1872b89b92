require ["editheader", "relational", "comparator-i;ascii-numeric", "fileinto"];
deleteheader :is "x-tag" "BETA";
if header :count "eq" :comparator "i;ascii-numeric" "x-tag" "2" { fileinto "TwoLeft"; }
