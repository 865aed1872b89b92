require ["regex", "fileinto"];
if header :regex "x-pattern" "^2.3=6. yes.no$" { fileinto "Dots"; }
