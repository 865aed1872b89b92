require ["duplicate", "fileinto"];
if duplicate :uniqueid "a" { fileinto "DupA"; }
if duplicate :uniqueid "b" { fileinto "DupB"; }
fileinto "Done";
