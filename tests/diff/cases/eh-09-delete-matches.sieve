require ["editheader", "fileinto"];
deleteheader :matches "x-tag" "*a";
if not exists "x-tag" { fileinto "AllGone"; }
