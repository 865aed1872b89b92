# :count counts across all the named headers: 3 X-Tag + 3 X-Count.
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :count "eq" :comparator "i;ascii-numeric" ["x-tag", "x-count"] "6" { fileinto "Six"; }
