# A surrogate code point is an error in the script.
require ["encoded-character", "fileinto"];
fileinto "Bad${unicode:D800}";
