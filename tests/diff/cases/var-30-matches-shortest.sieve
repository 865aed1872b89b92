# The first * takes as little as it can.
require ["variables", "fileinto"];
if address :domain :matches "to" "*.*" { fileinto "${1}-${2}"; }
