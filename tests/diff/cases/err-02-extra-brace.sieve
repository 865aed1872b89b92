require "fileinto";
fileinto "A";
}
