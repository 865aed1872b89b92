require ["environment", "fileinto"];
if environment :matches "domain" "*" { fileinto "HasDomain"; }
