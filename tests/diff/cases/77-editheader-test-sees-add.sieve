# RFC 5293 7: a header test after addheader sees the new field
require ["editheader", "fileinto"];
addheader "X-Hello" "World";
if header :contains "X-Hello" "World" {
  fileinto "Greetings";
}
