require "fileinto";
if size :under 2K {
  fileinto "Small";
} else {
  fileinto "Large";
}
