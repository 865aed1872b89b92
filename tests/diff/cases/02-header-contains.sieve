require "fileinto";
if header :contains "list-id" "<dev.lists.example.org>" {
  fileinto "Lists.dev";
}
