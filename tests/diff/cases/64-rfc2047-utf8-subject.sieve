# Subject: =?UTF-8?B?...?= decodes to "Grüße aus München".
require "fileinto";
if header :contains "subject" "Grüße" {
  fileinto "Friends";
}
