require ["envelope", "fileinto"];
if envelope :is :comparator "i;octet" "from" "Grace@example.org" { fileinto "Wrong"; }
else { fileinto "CaseMatters"; }
