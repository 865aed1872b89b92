require ["fileinto", "comparator-i;ascii-numeric"];
if header :count "eq" :comparator "i;ascii-numeric" "received" "0" { fileinto "Never"; }
