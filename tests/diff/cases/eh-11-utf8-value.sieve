require ["editheader", "fileinto"];
addheader "X-Note" "Grüße";
if header :is "x-note" "Grüße" { fileinto "Note"; }
