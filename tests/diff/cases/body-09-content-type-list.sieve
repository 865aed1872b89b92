require ["body", "fileinto"];
if body :content ["application/pdf", "text/csv"] :contains "consulting" { fileinto "Csv"; }
