# i;octet is case-sensitive.
require "fileinto";
if header :contains :comparator "i;octet" "subject" "budget" {
  fileinto "Wrong";
} elsif header :contains :comparator "i;octet" "subject" "Budget" {
  fileinto "Right";
}
