# The ";" after fileinto "Broken" is missing: the script must not run at
# all, not even the commands before and after the error.
require "fileinto";
fileinto "Before";
if header :is "subject" "x" {
  fileinto "Broken"
}
fileinto "After";
