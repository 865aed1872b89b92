# X-Virus-Score: 1 of 5.
require ["virustest", "relational", "comparator-i;ascii-numeric", "fileinto"];
if virustest :value "le" :comparator "i;ascii-numeric" "2" { fileinto "Clean"; }
