require ["fileinto", "subaddress"];
if address :user :is "to" "bob" {
  fileinto "Team";
}
