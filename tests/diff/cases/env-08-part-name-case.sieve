# Envelope part names are case-insensitive.
require ["envelope", "fileinto"];
if envelope :is "FROM" "grace@example.org" { fileinto "Boss"; }
