require ["subaddress", "fileinto"];
if address :detail :is "to" "WORK" { fileinto "Work"; }
