require "fileinto";
if exists ["SUBJECT", "Message-Id", "x-PRIORITY"] { fileinto "Found"; }
