require "fileinto";
if address :domain :is "to" "LISTS.example.org" {
  fileinto "Lists";
}
