require "fileinto";
if size :over 0 { fileinto "NonEmpty"; }
