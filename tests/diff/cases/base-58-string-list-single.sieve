require "fileinto";
if header :contains ["subject"] ["budget"] { fileinto "Budget"; }
