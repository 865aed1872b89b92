require ["envelope", "fileinto"];
if envelope :is ["from", "to"] "me@example.org" { fileinto "FromOrToMe"; }
