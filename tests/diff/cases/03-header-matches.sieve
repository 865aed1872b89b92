# * and ? wildcards, case-insensitive; "[" has no special meaning.
require "fileinto";
if header :matches "subject" "[DEV] release ?.? *" {
  fileinto "Lists.dev.release";
}
