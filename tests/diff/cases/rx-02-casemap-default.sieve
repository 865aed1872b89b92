require ["regex", "fileinto"];
if header :regex "subject" "BUILD #[0-9]+ FAILED" { fileinto "Casemap"; }
