require "fileinto";
if anyof (not exists "List-Id", header :is "precedence" "bulk") {
  fileinto "Personal";
} else {
  fileinto "Lists";
}
