# A :matches without wildcards sets ${0} only.
require ["variables", "fileinto"];
if header :matches "x-priority" "1" { fileinto "Z${0}-${1}"; }
