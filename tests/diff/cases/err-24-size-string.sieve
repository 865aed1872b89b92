require "fileinto";
if size :over "100" { fileinto "Never"; }
fileinto "After";
