require ["body", "fileinto"];
if body :content "TEXT/PLAIN" :contains "lake" { fileinto "Lake"; }
