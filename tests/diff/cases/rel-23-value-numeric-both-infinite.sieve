# "abc" and "xyz" are both infinity: equal.
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "eq" :comparator "i;ascii-numeric" "x-count" "xyz" { fileinto "BothInfinite"; }
