# A failed match leaves the match variables as they were.
require ["variables", "fileinto"];
if header :matches "x-priority" "*" { }
if header :matches "subject" "no such * subject" { }
fileinto "P${1}";
