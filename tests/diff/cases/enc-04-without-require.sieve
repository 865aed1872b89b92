# Without require "encoded-character" the sequence is literal text.
require "fileinto";
fileinto "X${hex:41}";
