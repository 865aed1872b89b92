require "fileinto";
if anyof () { fileinto "Never"; }
fileinto "After";
