require ["mime", "fileinto"];
if address :mime :anychild :is "from" "ops@hosting.example.com" { fileinto "Ops"; }
