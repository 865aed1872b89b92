require ["editheader", "fileinto"];
addheader "Reply-To" "Bob <bob@example.org>";
if address :is "reply-to" "bob@example.org" { fileinto "Bob"; }
