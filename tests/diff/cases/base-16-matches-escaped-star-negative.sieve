# A literal star does not match other characters.
require "fileinto";
if header :matches "x-pattern" "2\\*??=6*" { fileinto "Wrong"; }
if header :matches "x-pattern" "\\*3*" { fileinto "Wrong2"; }
