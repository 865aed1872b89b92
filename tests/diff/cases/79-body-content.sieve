require ["body", "fileinto"];
if body :content "multipart" :contains "nested multi-part" { fileinto "prologue"; }
if body :content "multipart" :contains "end of the outer" { fileinto "epilogue"; }
if body :content "multipart" :contains "Hello" { fileinto "children-not-searched"; }
if body :content "text/plain" :contains "Hello" { fileinto "text-plain"; }
if body :content "text/html" :contains "<b>lo</b>" { fileinto "html-markup-kept"; }
if body :content "application/octet-stream" :contains "SECRET PAYLOAD" { fileinto "base64-decoded"; }
if body :content "image" :contains "" { fileinto "no-image"; }
if body :content "text/" :contains "" { fileinto "trailing-slash"; }
