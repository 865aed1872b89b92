require ["editheader", "fileinto"];
addheader "X-Sorted" "yes";
if header :is "x-sorted" "yes" { fileinto "Sorted"; }
