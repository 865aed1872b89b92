require "fileinto";
fileinto "Before";
keep
