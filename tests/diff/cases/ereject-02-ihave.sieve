require ["ihave", "fileinto"];
if ihave "ereject" {
  ereject "Not accepted.";
} else {
  fileinto "NoEreject";
}
