require ["envelope", "fileinto"];
if envelope :localpart :is "from" "grace" { fileinto "Boss"; }
