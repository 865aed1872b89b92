# :index with :last and a value pattern pick the field to delete
require ["editheader", "fileinto", "variables"];
addheader :last "X-Tag" "one";
addheader :last "X-Tag" "two";
deleteheader :index 1 :last :matches "X-Tag" "t*";
if header :is "X-Tag" "two" {
  fileinto "Wrong";
} elsif header :matches "X-Tag" "*" {
  fileinto "Kept-${1}";
}
