require "fileinto";
if header :matches "subject" "[dev] *?.? *" { fileinto "Versioned"; }
