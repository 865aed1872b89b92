require ["date", "fileinto"];
if date :originalzone :matches "date" "year" "*" { fileinto "Wrong"; }
else { fileinto "Unparsable"; }
