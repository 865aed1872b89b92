# In i;ascii-numeric a value without leading digits is positive infinity.
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "gt" :comparator "i;ascii-numeric" "x-count" "1000000" { fileinto "Infinite"; }
