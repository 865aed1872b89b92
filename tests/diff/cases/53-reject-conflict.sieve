# reject cannot be combined with fileinto: runtime error, implicit keep.
require ["reject", "fileinto"];
reject "No.";
fileinto "Kept";
