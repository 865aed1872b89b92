require "fileinto";
if address :all :is "from" "GRACE@example.org" {
  fileinto "Boss";
}
