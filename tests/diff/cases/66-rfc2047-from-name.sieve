require "fileinto";
if header :contains "from" "Amélie Dupré" {
  fileinto "Friends";
}
