# "\\\\" in the script is one backslash in the pattern: a literal backslash.
require "fileinto";
if header :matches "x-pattern" "*yes\\\\no" { fileinto "Backslash"; }
