require ["imap4flags", "fileinto", "variables"];
addflag "mine" "\\Seen";
addflag "mine" "\\Flagged";
fileinto :flags "${mine}" "Boss";
keep;
