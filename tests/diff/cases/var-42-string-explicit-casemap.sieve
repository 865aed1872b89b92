require ["variables", "fileinto"];
set "x" "abc";
if string :is :comparator "i;ascii-casemap" "${x}" "ABC" { fileinto "Casemap"; }
