require "fileinto";
fileinto "Before";
discard "now";
