require "fileinto";
if address :localpart :matches "to" "*+*" { fileinto "Tagged"; }
