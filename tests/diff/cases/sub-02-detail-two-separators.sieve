# The detail starts after the first separator.
require ["subaddress", "envelope", "fileinto"];
if envelope :detail "to" "a+b" { fileinto "AB"; }
if envelope :user "to" "me" { fileinto "Me"; }
