require ["variables", "fileinto"];
set "x" "Y";
fileinto "A\${x}";
