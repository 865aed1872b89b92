# i;ascii-casemap folds only A-Z: "MüNCHEN" matches "München",
# "MÜNCHEN" does not.
require "fileinto";
if header :contains "subject" "MüNCHEN" { fileinto "AsciiFolded"; }
if header :contains "subject" "MÜNCHEN" { fileinto "Wrong"; }
