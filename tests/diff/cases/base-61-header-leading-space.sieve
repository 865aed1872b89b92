# The value starts after the colon and leading white space.
require "fileinto";
if header :is "x-priority" "1" { fileinto "P1"; }
