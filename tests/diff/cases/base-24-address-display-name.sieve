# The display name is not part of any address part.
require "fileinto";
if address :contains "from" "Boss" { fileinto "Wrong"; }
if header :contains "from" "Boss" { fileinto "HeaderHasName"; }
