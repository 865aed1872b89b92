require ["variables", "fileinto"];
set "x" "abc";
if string :is :comparator "i;octet" "${x}" "ABC" { fileinto "Wrong"; }
else { fileinto "Octet"; }
