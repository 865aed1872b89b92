# Received is protected: deleting it does nothing.
require ["editheader", "relational", "comparator-i;ascii-numeric", "fileinto"];
deleteheader "received";
if header :count "eq" :comparator "i;ascii-numeric" "received" "3" { fileinto "StillThree"; }
