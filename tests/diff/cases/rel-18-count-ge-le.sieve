require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if address :count "le" :comparator "i;ascii-numeric" "to" "3" { fileinto "AtMost3"; }
if address :count "lt" :comparator "i;ascii-numeric" "to" "3" { fileinto "Wrong"; }
