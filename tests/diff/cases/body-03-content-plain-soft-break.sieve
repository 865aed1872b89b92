# "sala=<LF>d" is "salad" once decoded.
require ["body", "fileinto"];
if body :content "text/plain" :contains "Bring a salad" { fileinto "Decoded"; }
