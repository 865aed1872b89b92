# me+@example.org has an empty detail.
require ["envelope", "fileinto", "subaddress"];
if envelope :detail :is "to" "" { fileinto "EmptyDetail"; }
