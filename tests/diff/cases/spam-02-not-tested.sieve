# No X-Spam-Score header: the result is 0.
require ["spamtest", "fileinto"];
if spamtest "0" { fileinto "Untested"; }
