require "fileinto";
addheader "X-A" "1";
fileinto "After";
