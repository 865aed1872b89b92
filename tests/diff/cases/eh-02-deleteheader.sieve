require ["editheader", "fileinto"];
deleteheader "importance";
if not exists "importance" { fileinto "Gone"; }
