# :percent needs spamtestplus.
require ["spamtest", "fileinto"];
if spamtest :percent "80" { fileinto "Eighty"; }
