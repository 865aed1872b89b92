# :count with the default comparator compares "3" and "10" as strings.
require ["relational", "fileinto"];
if header :count "gt" "received" "10" { fileinto "StringOrder"; }
