require "fileinto";
if true {
  fileinto "Open";
