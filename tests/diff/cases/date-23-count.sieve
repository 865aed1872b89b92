# The :count of a date test is 1 when the field holds a valid date.
require ["date", "relational", "comparator-i;ascii-numeric", "fileinto"];
if date :count "eq" :comparator "i;ascii-numeric" "date" "year" "1" { fileinto "One"; }
