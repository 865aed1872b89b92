require "fileinto";
if true fileinto "Never";
