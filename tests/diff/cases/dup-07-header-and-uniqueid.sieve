# :header and :uniqueid together are an error.
require ["duplicate", "fileinto"];
if duplicate :header "subject" :uniqueid "x" { fileinto "Dup"; }
fileinto "After";
