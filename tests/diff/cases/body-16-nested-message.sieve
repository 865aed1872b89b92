require ["body", "fileinto"];
if body :text :contains "database servers" { fileinto "Nested"; }
