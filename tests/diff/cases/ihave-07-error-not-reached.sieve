require ["ihave", "fileinto"];
if false { error "Not reached."; }
fileinto "Fine";
