require "fileinto";
if size 100 { fileinto "Never"; }
fileinto "After";
