require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "ne" :comparator "i;ascii-numeric" "x-priority" "1" { fileinto "Wrong"; }
else { fileinto "Equal"; }
