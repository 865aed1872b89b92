# Cc: erin@example.net, Dan <dan+ci@example.org>
require ["fileinto", "subaddress"];
if address :detail :is "cc" "ci" {
  fileinto "CI";
}
