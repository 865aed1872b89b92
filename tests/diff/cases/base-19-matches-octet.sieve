require "fileinto";
if header :matches :comparator "i;octet" "subject" "budget*" { fileinto "Lower"; }
if header :matches :comparator "i;octet" "subject" "Budget*" { fileinto "Upper"; }
