require "fileinto";
if size :under 1M {
  fileinto "Medium";
}
if size :over 100K {
  fileinto "Huge";
}
