# Returns before its fileinto.
require ["include", "fileinto"];
if true {
  return;
}
fileinto "NotReached";
