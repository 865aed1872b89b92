require "fileinto";
if address :detail "to" "work" { fileinto "Work"; }
