require ["subaddress", "envelope", "fileinto"];
if envelope :user "to" "me" { fileinto "Me"; }
