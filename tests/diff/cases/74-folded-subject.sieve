# "The quarterly" and "invoice" are on two lines of the folded Subject.
require "fileinto";
if header :contains "subject" "quarterly invoice" {
  fileinto "Invoices";
}
