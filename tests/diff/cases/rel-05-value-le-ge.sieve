# X-Count: 10, 9, abc
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "le" :comparator "i;ascii-numeric" "x-count" "9" { fileinto "Le9"; }
if header :value "ge" :comparator "i;ascii-numeric" "x-count" "10" { fileinto "Ge10"; }
