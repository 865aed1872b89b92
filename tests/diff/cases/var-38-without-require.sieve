require "fileinto";
set "x" "Boss";
fileinto "${x}";
