# X-Spam-Score: 2 of 10.
require ["spamtest", "relational", "comparator-i;ascii-numeric", "fileinto"];
if spamtest :value "lt" :comparator "i;ascii-numeric" "5" { fileinto "Ham"; }
