# Only the first true branch runs.
require "fileinto";
if true { fileinto "A"; }
elsif true { fileinto "B"; }
else { fileinto "C"; }
