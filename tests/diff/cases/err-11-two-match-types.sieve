require "fileinto";
if header :is :contains "subject" "budget" { fileinto "Never"; }
fileinto "After";
