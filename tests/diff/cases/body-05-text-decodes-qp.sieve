require ["body", "fileinto"];
if body :text :contains "Entrée is free" { fileinto "Decoded"; }
