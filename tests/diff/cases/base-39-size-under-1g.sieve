require "fileinto";
if size :under 1G { fileinto "UnderGiga"; }
