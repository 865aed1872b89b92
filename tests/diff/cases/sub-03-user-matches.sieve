require ["subaddress", "fileinto"];
if address :user :matches "to" "b?b" { fileinto "Bob"; }
