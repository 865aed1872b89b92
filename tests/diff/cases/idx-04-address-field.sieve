# :index counts header fields, not addresses: there is one To field.
require ["index", "fileinto"];
if address :index 2 :all :matches "to" "*" { fileinto "Wrong"; }
if address :index 1 :is "to" "carol@example.com" { fileinto "FirstField"; }
