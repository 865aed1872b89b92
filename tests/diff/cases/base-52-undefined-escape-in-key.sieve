# "\Q" stands for "Q".
require "fileinto";
if header :contains "subject" "\Q\3" { fileinto "Q3"; }
