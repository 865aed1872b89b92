require ["subaddress", "fileinto"];
if address :detail :matches "from" "*" { fileinto "Wrong"; }
else { fileinto "NoDetail"; }
