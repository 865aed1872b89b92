require "fileinto";
fileinto "Before";
redirect "";
