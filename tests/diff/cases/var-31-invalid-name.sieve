require ["variables", "fileinto"];
set "1abc" "x";
fileinto "After";
