require "fileinto";
fileinto "Boss";
stop;
keep;
