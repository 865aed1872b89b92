require "fileinto";
if address :localpart :is "from" "dave" {
  fileinto "People.dave";
}
