require "fileinto";
if environment :matches "name" "*" { fileinto "Never"; }
