# regex works only with comparators that can match substrings.
require ["regex", "fileinto", "comparator-i;ascii-numeric"];
if header :regex :comparator "i;ascii-numeric" "x-priority" "1" { fileinto "Never"; }
