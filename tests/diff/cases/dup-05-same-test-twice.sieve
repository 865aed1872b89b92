# RFC 7352 3: identical tests in one run give the same answer (false).
require ["duplicate", "fileinto"];
if duplicate { fileinto "Dup1"; }
if duplicate { fileinto "Dup2"; }
fileinto "Done";
