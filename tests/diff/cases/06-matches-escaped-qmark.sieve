# "\\?" is an escaped question mark: it matches a literal "?" only.
require "fileinto";
if header :matches "subject" "*check it\\?" {
  fileinto "Questions";
}
