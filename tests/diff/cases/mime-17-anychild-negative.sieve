require ["mime", "fileinto"];
if header :mime :anychild :type "content-type" "image" { fileinto "Wrong"; }
else { fileinto "NoImage"; }
