require "fileinto";
if header :comparator "i;octet" :comparator "i;octet" "subject" "x" { fileinto "Never"; }
fileinto "After";
