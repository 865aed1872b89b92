require ["encoded-character", "fileinto"];
if header :contains "subject" "Gr${unicode:fc}${unicode:DF}e" { fileinto "Greetings"; }
