require ["envelope", "fileinto"];
if envelope :matches "from" "*@lists.example.org" { fileinto "ListBounce"; }
