# A global script with the same name as a personal one.
require "fileinto";
fileinto "GlobalLists";
