require ["imap4flags", "fileinto", "variables"];
setflag "mine" "\\Answered $Done";
if hasflag "mine" "$done" { fileinto "Done"; }
if hasflag "\\Answered" { fileinto "Wrong"; }
