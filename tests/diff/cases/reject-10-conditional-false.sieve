require "reject";
if header :contains "subject" "lottery" { reject "No spam."; }
