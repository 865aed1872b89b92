require "fileinto";
fileinto "Before";
elsif true { fileinto "Never"; }
