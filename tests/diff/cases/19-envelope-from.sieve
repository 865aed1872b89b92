require ["fileinto", "envelope"];
if envelope :is "from" "grace@example.org" {
  fileinto "Boss";
}
