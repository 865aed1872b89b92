require "fileinto";
fileinto "Before";
/* the comment never ends
fileinto "Never";
