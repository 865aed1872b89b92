require "fileinto";
if header :is 1 "x" { fileinto "Never"; }
fileinto "After";
