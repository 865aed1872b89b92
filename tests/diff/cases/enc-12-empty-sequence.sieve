require ["encoded-character", "fileinto"];
fileinto "X${hex:}Y";
