require "fileinto";
if ihave "fileinto" { fileinto "Never"; }
