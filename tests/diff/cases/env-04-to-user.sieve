require ["envelope", "fileinto", "subaddress"];
if envelope :user :is "to" "me" { fileinto "Me"; }
