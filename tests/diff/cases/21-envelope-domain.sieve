require ["fileinto", "envelope"];
if allof (envelope :domain :is "from" "lists.example.org",
          envelope :localpart :matches "from" "*-bounces") {
  fileinto "Lists.dev";
}
