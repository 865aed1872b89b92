require "fileinto";
if size :over 99999999999999999999 { fileinto "Never"; }
fileinto "After";
