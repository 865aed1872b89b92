require "fileinto";
if keep { fileinto "Never"; }
fileinto "After";
