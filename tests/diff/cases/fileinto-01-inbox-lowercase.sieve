# INBOX is case-insensitive: this is a keep.
require "fileinto";
fileinto "inbox";
