require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "eq" :comparator "i;ascii-numeric" "x-count" ["1", "2", "9"] { fileinto "Nine"; }
