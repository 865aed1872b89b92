require "fileinto";
if address :domain :is "from" "example.fr" { fileinto "France"; }
