require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" { fileinto "Score${1}"; }
