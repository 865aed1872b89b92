require "fileinto";
if header :is ["subject", 1] "x" { fileinto "Never"; }
fileinto "After";
