require "fileinto";
if date :originalzone "date" "year" "2026" { fileinto "Never"; }
