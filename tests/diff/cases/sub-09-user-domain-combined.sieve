require ["subaddress", "fileinto"];
if allof (address :user "cc" "dan", address :domain "cc" "example.org") { fileinto "Dan"; }
