# :matches must match the whole value, not a part.
require "fileinto";
if header :matches "subject" "Budget" { fileinto "Wrong"; }
if header :matches "subject" "Budget*" { fileinto "Prefix"; }
