require ["variables", "fileinto"];
if header :matches "x-priority" "*" { fileinto "P${0}"; }
