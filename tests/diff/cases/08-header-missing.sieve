# A missing header never matches, not even :contains "".
require "fileinto";
if header :contains "list-id" "" {
  fileinto "List";
} else {
  fileinto "Direct";
}
