require "fileinto";
if allof (true, exists "subject", header :is "x-priority" "2") { fileinto "Wrong"; }
else { fileinto "Right"; }
