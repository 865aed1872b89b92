require "fileinto";
fileinto "Before";
frobnicate;
