# "john smith"@example.org: the local part is compared without quotes.
require "fileinto";
if address :localpart :is "cc" "john smith" { fileinto "John"; }
