require "fileinto";
if true {
  fileinto "One";
  if true { stop; }
  fileinto "Two";
}
fileinto "Three";
