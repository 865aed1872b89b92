require ["envelope", "fileinto"];
if envelope :domain :matches "to" "example.???" { fileinto "Three"; }
