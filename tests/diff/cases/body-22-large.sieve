require ["body", "fileinto"];
if body :contains "31   dns2.example.org" { fileinto "LastLine"; }
