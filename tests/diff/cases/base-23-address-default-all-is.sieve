require "fileinto";
if address "from" "GRACE@EXAMPLE.ORG" { fileinto "Boss"; }
