# Auto-Submitted is protected as well.
require ["editheader", "fileinto"];
deleteheader "auto-submitted";
if exists "auto-submitted" { fileinto "Protected"; }
