require "fileinto";
if header :matches "subject" "*" { fileinto "Any"; }
