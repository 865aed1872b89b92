# Decoding is done once: "${hex:24}" gives "$", the rest stays.
require ["encoded-character", "fileinto"];
fileinto "${hex:24}{hex:41}";
