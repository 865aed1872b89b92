# The envelope sender is not the From header.
require ["envelope", "fileinto"];
if envelope :is "from" "grace@example.org" { fileinto "Wrong"; }
if envelope :is "from" "other@example.net" { fileinto "Envelope"; }
