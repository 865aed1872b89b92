require "fileinto";
fileinto "Included";
stop;
