require ["body", "fileinto"];
if body :content "text/plain" :comparator "i;octet" :contains "dear friends" { fileinto "Wrong"; }
elsif body :content "text/plain" :comparator "i;octet" :contains "Dear friends" { fileinto "Right"; }
