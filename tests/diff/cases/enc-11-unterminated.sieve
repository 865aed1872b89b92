require ["encoded-character", "fileinto"];
fileinto "X${hex:41";
