require ["envelope", "fileinto", "subaddress"];
if envelope :detail :matches "to" "l*s" { fileinto "Lists"; }
