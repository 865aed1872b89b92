require ["regex", "fileinto"];
if header :regex :comparator "i;octet" "subject" "BUILD" { fileinto "Wrong"; }
elsif header :regex :comparator "i;octet" "subject" "Build" { fileinto "Octet"; }
