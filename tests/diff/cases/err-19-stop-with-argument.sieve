require "fileinto";
fileinto "Before";
stop "now";
