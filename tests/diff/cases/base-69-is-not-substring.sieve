require "fileinto";
if header :is "subject" "Budget review" { fileinto "Wrong"; }
else { fileinto "Right"; }
