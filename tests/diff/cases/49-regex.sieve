require ["fileinto", "regex"];
if header :regex "subject" "Build #[0-9]+ failed$" {
  fileinto "CI";
}
