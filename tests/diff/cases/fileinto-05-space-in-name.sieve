require "fileinto";
fileinto "Boss Mail";
