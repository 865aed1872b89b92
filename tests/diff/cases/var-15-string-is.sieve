require ["variables", "fileinto"];
set "x" "abc";
if string :is "${x}" "ABC" { fileinto "Casemap"; }
