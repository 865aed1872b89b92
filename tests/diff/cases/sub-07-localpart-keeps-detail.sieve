require ["subaddress", "fileinto"];
if address :localpart "to" "bob+work" { fileinto "Localpart"; }
