require "fileinto";
if address :domain :matches "from" "*.example.net" { fileinto "Net"; }
