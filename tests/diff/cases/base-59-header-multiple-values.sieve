# Two Received headers: either may match.
require "fileinto";
if header :contains "received" "10.0.0.5" { fileinto "Internal"; }
