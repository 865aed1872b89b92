# 3 addresses in To plus 2 in Cc: RFC 5231 counts 5 across both headers.
require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "5" {
  fileinto "Crowd";
}
