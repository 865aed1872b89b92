# Commands of an extension that is not there may appear in its block.
require ["ihave", "fileinto"];
if ihave "x-no-such-extension" {
  frobnicate "everything";
} else {
  fileinto "NoExtension";
}
