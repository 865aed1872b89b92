# X-Spam-Score: 2 of 10.
require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" { fileinto "Score${1}"; }
