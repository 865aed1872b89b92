require ["variables", "fileinto"];
set "h" "importance";
if header :is "${h}" "high" { fileinto "High"; }
