# X-Pattern: 2*3=6? yes\no -- "\\*" is a literal star.
require "fileinto";
if header :matches "x-pattern" "2\\*3=6*" { fileinto "Star"; }
