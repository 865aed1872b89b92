require ["mime", "fileinto"];
if header :mime :contenttype "content-type" "multipart/alternative" { fileinto "Both"; }
