require "fileinto";
if header :contains "subject" "passed" {
  fileinto "CI.passed";
} elsif header :contains "subject" "failed" {
  fileinto "CI.failed";
} else {
  fileinto "CI";
}
