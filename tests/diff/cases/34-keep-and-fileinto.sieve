require "fileinto";
keep;
fileinto "Copies.boss";
