require "fileinto";
if header :is "subject" "Budget review tomorrow (\"Q3\" numbers)" { fileinto "Exact"; }
