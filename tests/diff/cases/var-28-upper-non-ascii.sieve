require ["variables", "fileinto"];
if header :matches "subject" "*" { set :upper "s" "${1}"; }
fileinto "${s}";
