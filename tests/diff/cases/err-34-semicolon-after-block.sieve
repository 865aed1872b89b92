# A ";" after a block is an empty command: a syntax error.
require "fileinto";
if true { fileinto "A"; };
