require ["body", "fileinto"];
if body :raw :contains "Entrée" { fileinto "Wrong"; }
else { fileinto "Encoded"; }
