require "fileinto";
fileinto :create "Boss";
