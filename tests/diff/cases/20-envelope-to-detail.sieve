# Envelope recipient me+lists@example.org
require ["fileinto", "envelope", "subaddress"];
if envelope :detail "to" "lists" {
  fileinto "Lists";
}
