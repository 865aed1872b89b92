require "fileinto";
fileinto "Before";
else { fileinto "Never"; }
