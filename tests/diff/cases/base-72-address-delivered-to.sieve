require "fileinto";
if address :is "delivered-to" "me@example.org" { fileinto "Delivered"; }
