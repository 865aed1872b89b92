require "fileinto";
if currentdate :matches "year" "*" { fileinto "Never"; }
