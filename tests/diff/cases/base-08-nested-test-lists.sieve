require "fileinto";
if anyof (allof (exists "x-spam-flag", not header :is "x-spam-flag" "NO"),
          header :contains "subject" "never-there") {
  fileinto "Junk";
}
