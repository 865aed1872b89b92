require "fileinto";
if size :under 1000000 { fileinto "Small"; }
