require ["regex", "fileinto"];
if header :regex "subject" "([a-z" { fileinto "Never"; }
fileinto "After";
