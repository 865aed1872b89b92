require "fileinto";
if size :over 1M { fileinto "Wrong"; } else { fileinto "NotHuge"; }
