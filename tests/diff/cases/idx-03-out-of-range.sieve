require ["index", "fileinto"];
if header :index 4 :matches "received" "*" { fileinto "Wrong"; }
else { fileinto "OutOfRange"; }
