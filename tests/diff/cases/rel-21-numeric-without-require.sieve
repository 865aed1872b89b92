require ["relational", "fileinto"];
if header :value "gt" :comparator "i;ascii-numeric" "x-priority" "0" { fileinto "Never"; }
