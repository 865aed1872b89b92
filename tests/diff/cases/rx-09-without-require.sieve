require "fileinto";
if header :regex "subject" "Budget" { fileinto "Never"; }
