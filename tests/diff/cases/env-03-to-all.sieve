require ["envelope", "fileinto"];
if envelope :all :is "to" "me@example.org" { fileinto "Mine"; }
