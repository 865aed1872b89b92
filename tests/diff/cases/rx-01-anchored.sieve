require ["regex", "fileinto"];
if header :regex "subject" "^\\[CI\\] Build" { fileinto "CI"; }
