require "fileinto";
if allof (address :is "from" "grace@example.org",
          header :contains "cc" "heidi") {
  fileinto "Boss.team";
}
