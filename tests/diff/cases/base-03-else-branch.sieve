require "fileinto";
if exists "list-id" { fileinto "List"; }
elsif header :is "x-priority" "5" { fileinto "Low"; }
else { fileinto "Else"; }
