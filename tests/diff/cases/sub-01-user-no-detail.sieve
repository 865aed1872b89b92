require ["subaddress", "fileinto"];
if address :user "to" "me" { fileinto "Me"; }
