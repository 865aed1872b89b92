# deleteheader removes every field of the name; later tests do not see them
require ["editheader", "fileinto"];
deleteheader "List-Id";
if exists "List-Id" {
  fileinto "Lists";
} elsif header :contains "subject" "[dev]" {
  fileinto "Dev";
}
