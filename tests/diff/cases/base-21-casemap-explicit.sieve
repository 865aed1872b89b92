require "fileinto";
if header :is :comparator "i;ascii-casemap" "importance" "HiGh" { fileinto "High"; }
