# X-Empty: is empty; in i;ascii-numeric that is positive infinity too.
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "gt" :comparator "i;ascii-numeric" "x-empty" "5" { fileinto "Infinite"; }
