require ["mime", "fileinto"];
if header :mime :type "content-type" "multipart" { fileinto "Multipart"; }
