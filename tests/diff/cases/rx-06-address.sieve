require ["regex", "fileinto"];
if address :regex :localpart "to" "^[a-z]+\\+[a-z]+$" { fileinto "Tagged"; }
