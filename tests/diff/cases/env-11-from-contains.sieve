require ["envelope", "fileinto"];
if envelope :contains "from" "-bounces@" { fileinto "Bounces"; }
