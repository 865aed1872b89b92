require ["relational", "fileinto"];
if header :value "xx" "x-priority" "1" { fileinto "Never"; }
