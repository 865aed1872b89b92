require "fileinto";
if not { fileinto "Never"; }
fileinto "After";
