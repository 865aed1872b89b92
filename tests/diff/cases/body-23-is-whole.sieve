# :is compares the whole body, its final line end included.
require ["body", "fileinto"];
if body :is "No subject and no date." { fileinto "NoLineEnd"; }
if body :matches "No subject and no date.*" { fileinto "Prefix"; }
