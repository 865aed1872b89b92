require ["comparator-i;ascii-numeric", "fileinto"];
if header :is :comparator "i;ascii-numeric" "x-priority" "01" { fileinto "One"; }
