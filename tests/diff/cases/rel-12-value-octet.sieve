# i;octet orders "Beta" before "alpha" (upper case first).
require ["relational", "fileinto"];
if header :value "lt" :comparator "i;octet" "x-tag" "C" { fileinto "LtC"; }
if header :value "gt" :comparator "i;octet" "x-tag" "z" { fileinto "GtZ"; }
