# The key is the six characters ("Q3" after unescaping.
require "fileinto";
if header :contains "subject" "(\"Q3\"" {
  fileinto "Quoted";
}
