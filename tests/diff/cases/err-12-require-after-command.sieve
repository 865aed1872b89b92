keep;
require "fileinto";
fileinto "Late";
