# A group that did not take part in the match is empty.
require ["variables", "fileinto", "regex"];
if header :regex "x-priority" "^(x)?([0-9])$" { fileinto "A${1}B${2}"; }
