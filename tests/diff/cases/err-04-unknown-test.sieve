require "fileinto";
if frobnicated { fileinto "Never"; }
fileinto "After";
