# me@example.org is on the third continuation line of To.
require "fileinto";
if address :is "to" "me@example.org" {
  fileinto "Invoices";
}
