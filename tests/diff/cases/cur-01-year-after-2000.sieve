require ["date", "relational", "comparator-i;ascii-numeric", "fileinto"];
if currentdate :value "ge" :comparator "i;ascii-numeric" "year" "2000" { fileinto "Now"; }
