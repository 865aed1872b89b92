require ["environment", "fileinto"];
if environment :matches "x-no-such-item" "*" { fileinto "Wrong"; }
else { fileinto "Unknown"; }
