require ["regex", "envelope", "fileinto"];
if envelope :regex "from" "-bounces@" { fileinto "Bounces"; }
