# me@example.org has no detail: :detail "" does not match (RFC 5233 4).
require ["envelope", "fileinto", "subaddress"];
if envelope :detail :is "to" "" { fileinto "EmptyDetail"; }
if envelope :detail :matches "to" "*" { fileinto "AnyDetail"; }
