require ["mime", "fileinto"];
if exists :mime :anychild "content-disposition" { fileinto "HasAttachment"; }
if exists "content-disposition" { fileinto "Wrong"; }
