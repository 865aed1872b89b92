require ["body", "fileinto"];
if body :contains "SALAD" { fileinto "Salad"; }
