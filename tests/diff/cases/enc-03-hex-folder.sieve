require ["encoded-character", "fileinto"];
fileinto "${hex:41 72 63 68 69 76 65}";
