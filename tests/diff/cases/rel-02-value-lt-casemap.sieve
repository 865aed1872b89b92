# :value with the default comparator compares strings: "HIGH" < "LOW".
require ["relational", "fileinto"];
if header :value "lt" "importance" "low" { fileinto "BeforeLow"; }
