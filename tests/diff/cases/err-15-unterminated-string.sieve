require "fileinto";
fileinto "Never;
