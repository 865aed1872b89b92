require "fileinto";
if header :localpart "from" "grace" { fileinto "Never"; }
fileinto "After";
