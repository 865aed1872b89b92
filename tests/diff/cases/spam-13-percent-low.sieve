require ["spamtestplus", "fileinto", "variables"];
if spamtest :percent :matches "*" { fileinto "Percent${1}"; }
