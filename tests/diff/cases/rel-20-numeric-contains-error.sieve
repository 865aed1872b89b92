# i;ascii-numeric cannot do substring matches.
require ["comparator-i;ascii-numeric", "fileinto"];
if header :contains :comparator "i;ascii-numeric" "x-priority" "1" { fileinto "Never"; }
