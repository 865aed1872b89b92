require "fileinto";
if exists :is "subject" { fileinto "Never"; }
fileinto "After";
