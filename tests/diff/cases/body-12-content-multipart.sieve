# For multipart types the prologue and epilogue are searched.
require ["body", "fileinto"];
if body :content "multipart" :contains "multi-part message in MIME" { fileinto "Prologue"; }
