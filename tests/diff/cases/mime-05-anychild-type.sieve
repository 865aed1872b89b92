require ["mime", "fileinto"];
if header :mime :anychild :type "content-type" "application" { fileinto "HasApplication"; }
