require "fileinto";
if address :all :matches "cc" "*@example.net" {
  fileinto "External";
}
