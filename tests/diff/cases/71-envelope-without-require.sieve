# envelope without require "envelope" is an error (RFC 5228 5.4).
require "fileinto";
if envelope :is "from" "grace@example.org" {
  fileinto "Boss";
}
