require "fileinto";
fileinto "Inner";
