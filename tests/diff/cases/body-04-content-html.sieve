require ["body", "fileinto"];
if body :content "text/html" :contains "<b>summer party</b>" { fileinto "Html"; }
