# X-Pattern: 2*3=6? yes\no -- eleven wildcards; ${10} is not a match variable.
require ["variables", "fileinto"];
if header :matches "x-pattern" "?????????*" {
  fileinto "${1}${9}-${10}";
}
