# Every present header contains the empty string.
require "fileinto";
if header :contains "subject" "" { fileinto "HasSubject"; }
