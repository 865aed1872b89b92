require ["duplicate", "fileinto"];
if duplicate :header "subject" { fileinto "Dup"; } else { fileinto "NotDup"; }
