# hash comment with "quotes" and { braces
require "fileinto"; # after a command
/* bracketed
   comment with ; and } inside */
if /* in a test */ header :contains "subject" "budget" {
  fileinto /* between arguments */ "Budget";
}
