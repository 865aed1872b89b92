require "fileinto";
if duplicate { fileinto "Dup"; }
