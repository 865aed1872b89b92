require "fileinto";
if header :similar "subject" "budget" { fileinto "Never"; }
fileinto "After";
