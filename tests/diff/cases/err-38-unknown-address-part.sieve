require "fileinto";
if address :firstname "from" "grace" { fileinto "Never"; }
fileinto "After";
