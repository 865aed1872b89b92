# An invalid sequence is left as it is.
require ["encoded-character", "fileinto"];
fileinto "X${hex:4G}";
