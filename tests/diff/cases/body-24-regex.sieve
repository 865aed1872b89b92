require ["body", "fileinto", "regex"];
if body :regex "Build #[0-9]+ \\(nightly\\)" { fileinto "Nightly"; }
