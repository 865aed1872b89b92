require ["date", "relational", "fileinto"];
if currentdate :value "lt" "year" "3000" { fileinto "Before3000"; }
