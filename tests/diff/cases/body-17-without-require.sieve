require "fileinto";
if body :contains "Q3" { fileinto "Budget"; }
