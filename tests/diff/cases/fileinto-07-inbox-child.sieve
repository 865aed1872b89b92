require "fileinto";
fileinto "INBOX.Boss";
