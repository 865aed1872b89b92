require ["relational", "fileinto"];
if address :value "gt" :localpart "to" "me+m" { fileinto "AfterMe"; }
