require "fileinto";
fileinto "Boss";
fileinto "Archive";
