require ["encoded-character", "fileinto"];
fileinto "${HEX:41}${Unicode:42}";
