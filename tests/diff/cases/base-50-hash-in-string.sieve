require "fileinto";
fileinto "Tickets#1";
