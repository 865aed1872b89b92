require ["body", "fileinto"];
if body :content "message/rfc822" :contains "hello request" { fileinto "inner-header"; }
if body :content "message/rfc822" :contains "Please say" { fileinto "inner-body"; }
if body :content "text" :contains "Please say Hello" { fileinto "inner-text"; }
