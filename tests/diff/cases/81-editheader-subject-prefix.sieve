# a Subject rewritten with a prefix, then tested
require ["editheader", "fileinto", "variables"];
if header :matches "Subject" "*" {
  deleteheader "Subject";
  addheader "Subject" "[boss] ${1}";
}
if header :matches "Subject" "[boss] Budget*" {
  fileinto "Boss";
}
