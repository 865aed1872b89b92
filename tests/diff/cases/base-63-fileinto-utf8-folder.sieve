require "fileinto";
fileinto "Büro";
