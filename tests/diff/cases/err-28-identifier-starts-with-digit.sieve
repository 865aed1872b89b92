require "fileinto";
fileinto "Before";
1keep;
