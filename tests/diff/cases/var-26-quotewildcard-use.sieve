require ["variables", "fileinto"];
set :quotewildcard "p" "2*3=6?";
if header :matches "x-pattern" "${p}*" { fileinto "Literal"; }
