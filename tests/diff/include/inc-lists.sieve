# Included by the include cases: mailing lists.
require "fileinto";
if exists "list-id" {
  fileinto "Lists";
}
