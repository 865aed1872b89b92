# Tagged arguments may come in any order.
require "fileinto";
if header :comparator "i;octet" :contains "subject" "Q3" { fileinto "Q3"; }
