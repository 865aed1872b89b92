require ["variables", "fileinto", "regex"];
if header :regex "subject" "^\\[(dev)\\] Release ([0-9]+)\\.([0-9]+)" {
  fileinto "${1}.${2}-${3}.${0}";
}
