# exists is true only if every header named is present.
require "fileinto";
if exists ["Cc", "X-Not-There"] {
  fileinto "Wrong";
}
if not exists "List-Id" {
  fileinto "Personal";
}
