require ["body", "fileinto"];
if body :matches "*summer party*" { fileinto "Party"; }
