require "fileinto";
fileinto "Before";
true;
