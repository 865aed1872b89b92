# a message never seen before is no duplicate
require ["duplicate", "fileinto"];
if duplicate {
  discard;
} else {
  fileinto "New";
}
