# anyof stops at the first true test, so the second :matches never runs.
require ["variables", "fileinto"];
if header :matches "x-priority" "*" { }
if anyof (true, header :matches "subject" "*") { fileinto "P${1}"; }
