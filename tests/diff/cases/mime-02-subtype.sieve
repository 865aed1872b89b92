require ["mime", "fileinto"];
if header :mime :subtype "content-type" "alternative" { fileinto "Alternative"; }
