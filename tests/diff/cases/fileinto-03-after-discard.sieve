require "fileinto";
discard;
fileinto "CI";
