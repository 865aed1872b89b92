require ["body", "fileinto"];
if body :contains "Q3 numbers" { fileinto "Budget"; }
