# X-Virus-Score: 5 of 5.
require ["virustest", "relational", "comparator-i;ascii-numeric", "fileinto"];
if virustest :value "eq" :comparator "i;ascii-numeric" "5" { fileinto "Infected"; }
