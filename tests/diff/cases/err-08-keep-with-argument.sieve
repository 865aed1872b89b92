require "fileinto";
fileinto "Before";
keep "INBOX";
