require "fileinto";
if header :is :comparator "i;no-such-comparator" "subject" "x" {
  fileinto "Never";
}
fileinto "Anyway";
