require "fileinto";
if header :contains "x-pattern" "s\\n" { fileinto "Backslash"; }
